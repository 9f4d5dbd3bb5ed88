*** Settings ***
Documentation     The Robot checks judge as `harness run` does: firmware that prints one logit value or
...               one sample more than the model has must fail them, and the log then holds the UART
...               transcript.
Library           harness.robot.HarnessLibrary
Library           MisbehavingFirmware.py
Test Teardown     Stop Emulator

*** Test Cases ***
An Extra Value In Every Sample Fails Both Logit Checks
    Build Firmware That Prints One More    xor_mlp    value
    Start Emulator    qemu
    Run To Completion
    Run Keyword And Expect Error    *differ*    Logits Should Match Golden
    Run Keyword And Expect Error    *differ*    Logits Should Match Reference

An Extra Sample Fails Both Logit Checks
    Build Firmware That Prints One More    xor_mlp    sample
    Start Emulator    qemu
    Run To Completion
    Run Keyword And Expect Error    *    Logits Should Match Golden
    Run Keyword And Expect Error    *    Logits Should Match Reference

The Unchanged Firmware Passes Both
    Build Firmware    xor_mlp
    Start Emulator    qemu
    Run To Completion
    Logits Should Match Reference
    Logits Should Match Golden
