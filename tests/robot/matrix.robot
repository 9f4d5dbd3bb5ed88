*** Settings ***
Documentation     kws_cnn on every core of the matrix, through the harness's keyword library: each
...               board boots, names its core and counter, matches the reference and its golden
...               file bit for bit, and gives the same instruction counts on a second run. The
...               STM32 boards count with their own 1 GHz timer (icount); the MPS2/MPS3 boards and
...               the micro:bit are counted by QEMU's plugin (plugin).
Library           Collections
Library           harness.robot.HarnessLibrary
Test Template     Kws Cnn Runs Exactly On
Test Teardown     Stop Emulator

*** Test Cases ***              TARGET        CORE          COUNTER
Cortex-M0 micro:bit             microbit      cortex-m0     plugin
Cortex-M3 STM32F205             stm32f205     cortex-m3     icount
Cortex-M4 STM32F405             stm32f405     cortex-m4     icount
Cortex-M4 MPS2 AN386            mps2-an386    cortex-m4     plugin
Cortex-M7 MPS2 AN500            mps2-an500    cortex-m7     plugin
Cortex-M33 MPS2 AN505           mps2-an505    cortex-m33    plugin
Cortex-M55 MPS3 AN547           mps3-an547    cortex-m55    plugin

*** Keywords ***
Kws Cnn Runs Exactly On
    [Arguments]    ${target}    ${core}    ${counter}
    Build Firmware    kws_cnn    target=${target}
    Start Emulator    qemu
    ${boot}=    Wait For Record    boot
    Should Be Equal    ${boot}[core]    ${core}
    Should Be Equal    ${boot}[counter]    ${counter}
    ${status}=    Run To Completion
    Should Be Equal    ${status}    ok
    Logits Should Match Reference
    Logits Should Match Golden
    ${first}=    Every Layer Should Report A Positive Count
    Start Emulator    qemu
    Run To Completion
    ${second}=    Every Layer Should Report A Positive Count
    Lists Should Be Equal    ${first}    ${second}
