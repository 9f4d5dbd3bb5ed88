*** Settings ***
Documentation     The cycle baseline gate: no layer of any model may take more instructions than
...               harness/golden/cycles/stm32f405.json records (update it with `harness bench --all --update-baseline`).
Library           harness.robot.HarnessLibrary

*** Test Cases ***
No Layer Of Any Model Is Slower Than Its Baseline
    Cycles Should Not Regress
