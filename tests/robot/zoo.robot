*** Settings ***
Documentation     Every model of the zoo built, run on the emulated STM32F405 and verified through the
...               harness's own keyword library: bit-exact logits, float parity, no floating point.
...               The tests are generated from the zoo: the ZooModels library, also a listener, adds one
...               test per model of harness.zoo.ZOO, named after it and calling `Model Should Verify`,
...               when this suite starts, so a model added to the zoo is covered without editing this
...               file. The one test written here fails when the zoo is empty or a model got no test.
Library           harness.robot.HarnessLibrary
Library           ZooModels.py    Model Should Verify

*** Test Cases ***
Every Zoo Model Has A Test
    Every Zoo Model Should Have A Test

*** Keywords ***
Model Should Verify
    [Arguments]    ${model}
    ${report}=    Run Model And Verify    ${model}
    Should Be True    ${report}[match]
    Should Be True    ${report}[parity][ok]
    Should Be True    ${report}[float_free]
    Should Be True    ${report}[total_count] > 0
