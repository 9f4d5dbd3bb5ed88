*** Settings ***
Documentation     The harness's own keywords on `Start Emulator    renode`: the same records, the same
...               verification. Renode is not installed here, so tests/fakes/renode_standin.py (which
...               says it is NOT Renode) replays the UART that QEMU printed for the very same ELF, as
...               Renode prints it. Where Renode is installed, `make renode-test` runs Renode's own suites.
Library           harness.robot.HarnessLibrary
Library           RenodeStandIn.py
Suite Setup       Set Up The Stand-In
Suite Teardown    Stop The Renode Stand In    ${TRANSCRIPT}
Test Teardown     Stop Emulator

*** Test Cases ***
The Boot Record Names The DWT Counter
    Start Emulator    renode
    ${boot}=    Wait For Record    boot
    Should Be Equal    ${boot}[counter]    dwt
    Should Be Equal    ${boot}[board]    stm32f405

Logits Are Bit-Exact On Renode As On QEMU
    Start Emulator    renode
    ${status}=    Run To Completion
    Should Be Equal    ${status}    ok
    Counter Should Be    dwt
    Logits Should Match Reference
    Logits Should Match Golden
    ${counts}=    Every Layer Should Report A Positive Count
    Length Should Be    ${counts}    6

*** Keywords ***
Set Up The Stand-In
    Build Firmware    kws_cnn    target=stm32f405
    ${path}=    Replay Qemus Run On The Renode Stand In    kws_cnn
    Set Suite Variable    ${TRANSCRIPT}    ${path}
