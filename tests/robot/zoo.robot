*** Settings ***
Documentation     Every model of the zoo built, run on the emulated STM32F405 and verified through the
...               harness's own keyword library: bit-exact logits, float parity, no floating point.
Library           harness.robot.HarnessLibrary
Test Template     Model Should Verify

*** Test Cases ***        MODEL
xor_mlp                   xor_mlp
kws_cnn                   kws_cnn
resnet18_block            resnet18_block
mobilenetv2_block         mobilenetv2_block
mobilenetv1_published     mobilenetv1_published
mobilenetv1_friendly      mobilenetv1_friendly
kws_dscnn                 kws_dscnn
vww_mobilenetv1           vww_mobilenetv1
ic_resnet8                ic_resnet8
ad_autoencoder            ad_autoencoder

*** Keywords ***
Model Should Verify
    [Arguments]    ${model}
    ${report}=    Run Model And Verify    ${model}
    Should Be True    ${report}[match]
    Should Be True    ${report}[parity][ok]
    Should Be True    ${report}[float_free]
    Should Be True    ${report}[total_cycles] > 0
