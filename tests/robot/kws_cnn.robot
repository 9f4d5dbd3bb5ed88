*** Settings ***
Documentation     kws_cnn on the emulated STM32F405, through the harness's own keyword library:
...               the boot record, bit-exact logits against the reference and the golden file,
...               and a positive instruction count for every layer of every sample.
Library           Collections
Library           harness.robot.HarnessLibrary
Suite Setup       Build Firmware    kws_cnn    target=stm32f405
Test Teardown     Stop Emulator

*** Test Cases ***
Boot Record Names The Board And The Counter
    Start Emulator    qemu
    ${boot}=    Wait For Record    boot
    Should Be Equal    ${boot}[board]    stm32f405
    Should Be Equal    ${boot}[core]    cortex-m4
    Should Be Equal    ${boot}[counter]    icount
    ${model}=    Wait For Record    model
    Should Be Equal    ${model}[name]    kws_cnn
    Should Be Equal As Integers    ${model}[layers]    6

Logits Are Bit-Exact With The Reference And The Golden File
    Start Emulator    qemu
    ${status}=    Run To Completion
    Should Be Equal    ${status}    ok
    Logits Should Match Reference
    Logits Should Match Golden

Every Layer Reports A Positive Instruction Count
    Start Emulator    qemu
    Run To Completion
    Counter Should Be    icount
    ${counts}=    Every Layer Should Report A Positive Count
    Length Should Be    ${counts}    6

Instruction Counts Repeat Exactly Across Runs
    Start Emulator    qemu
    Run To Completion
    ${first}=    Every Layer Should Report A Positive Count
    Start Emulator    qemu
    Run To Completion
    ${second}=    Every Layer Should Report A Positive Count
    Lists Should Be Equal    ${first}    ${second}

Harness Run Verifies The Model
    ${report}=    Run Model And Verify    kws_cnn
    Should Be True    ${report}[match]
    Should Be Equal    ${report}[counter]    icount
