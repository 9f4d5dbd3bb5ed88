*** Settings ***
Documentation     The baseline gate: no layer of any model may take more instructions (the unit of QEMU's
...               icount counter) than harness/golden/cycles/stm32f405.json records (update it with
...               `harness bench --all --update-baseline`).
Library           harness.robot.HarnessLibrary

*** Test Cases ***
No Layer Of Any Model Takes More Instructions Than Its Baseline
    Counts Should Not Regress
