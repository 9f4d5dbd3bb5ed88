*** Settings ***
Documentation     The baseline gate: no layer of any model may take more instructions (the unit of QEMU's
...               icount counter) than the baseline of its kernel variant records:
...               harness/golden/cycles/stm32f405.json for ref, stm32f405.dsp.json for dsp (update them with
...               `harness bench --all --kernels ref,dsp --update-baseline`).
Library           harness.robot.HarnessLibrary

*** Test Cases ***
No Layer Of Any Model Takes More Instructions Than Its Baseline With The Ref Kernels
    Counts Should Not Regress    kernels=ref

No Layer Of Any Model Takes More Instructions Than Its Baseline With The Dsp Kernels
    Counts Should Not Regress    kernels=dsp
