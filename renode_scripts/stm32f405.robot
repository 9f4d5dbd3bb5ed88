# Renode's own tests of the cortexm-harness zoo on stm32f405: written by `harness renode-scripts`
# from harness/targets.py, harness/zoo and harness/golden; do not edit.
# Run from the checkout: `harness renode-scripts --build` (puts each ELF in build/renode/stm32f405/),
# then `renode-test renode_scripts/stm32f405.robot`; ELFs elsewhere: --variable ELF_DIR:/abs/dir.
# UART waits time out after 5 s of virtual time, which can take minutes of real time:
# give renode-test a --test-timeout for a wall-clock limit.

*** Settings ***
Documentation    Each zoo model's firmware on Renode's STM32F405 (Cortex-M4F, 1 MiB flash, 128 KiB SRAM + 64 KiB CCM): the records the
...    harness reads, checked against the golden logits. Renode's keywords only.
Suite Setup    Setup
Suite Teardown    Teardown
Test Setup    Reset Emulation
Test Teardown    Test Teardown

*** Variables ***
${ELF_DIR}    ${CURDIR}/../build/renode/stm32f405

*** Test Cases ***
xor_mlp
    [Documentation]    xor_mlp on stm32f405: boots with the DWT counting, names the model, prints the golden logits of sample 0 and ends with status ok.
    Execute Command    $bin\=@${ELF_DIR}/xor_mlp.elf
    Execute Command    $platform\=@${CURDIR}/stm32f405.repl
    Execute Command    $uart_port\=45678
    Execute Command    $quantum\="0.0001"
    Execute Script    ${CURDIR}/stm32f405.resc
    Create Terminal Tester    sysbus.usart1    timeout=5
    Register Failing Uart String    @fault
    Start Emulation
    Wait For Line On Uart    ^@boot .*counter.dwt[ ]    treatAsRegex=true
    Wait For Line On Uart    ^@model name.xor_mlp[ ]    treatAsRegex=true
    Wait For Line On Uart    ^@logits sample.0 v.-97[ ]    treatAsRegex=true
    Wait For Line On Uart    ^@done status.ok[ ]    treatAsRegex=true

kws_cnn
    [Documentation]    kws_cnn on stm32f405: boots with the DWT counting, names the model, prints the golden logits of sample 0 and ends with status ok.
    Execute Command    $bin\=@${ELF_DIR}/kws_cnn.elf
    Execute Command    $platform\=@${CURDIR}/stm32f405.repl
    Execute Command    $uart_port\=45678
    Execute Command    $quantum\="0.0001"
    Execute Script    ${CURDIR}/stm32f405.resc
    Create Terminal Tester    sysbus.usart1    timeout=5
    Register Failing Uart String    @fault
    Start Emulation
    Wait For Line On Uart    ^@boot .*counter.dwt[ ]    treatAsRegex=true
    Wait For Line On Uart    ^@model name.kws_cnn[ ]    treatAsRegex=true
    Wait For Line On Uart    ^@logits sample.0 v.44,-75,11,61,-66,-17,69,-50,-40,73[ ]    treatAsRegex=true
    Wait For Line On Uart    ^@done status.ok[ ]    treatAsRegex=true

resnet18_block
    [Documentation]    resnet18_block on stm32f405: boots with the DWT counting, names the model, prints the golden logits of sample 0 and ends with status ok.
    Execute Command    $bin\=@${ELF_DIR}/resnet18_block.elf
    Execute Command    $platform\=@${CURDIR}/stm32f405.repl
    Execute Command    $uart_port\=45678
    Execute Command    $quantum\="0.0001"
    Execute Script    ${CURDIR}/stm32f405.resc
    Create Terminal Tester    sysbus.usart1    timeout=5
    Register Failing Uart String    @fault
    Start Emulation
    Wait For Line On Uart    ^@boot .*counter.dwt[ ]    treatAsRegex=true
    Wait For Line On Uart    ^@model name.resnet18_block[ ]    treatAsRegex=true
    Wait For Line On Uart    ^@logits sample.0 v.-8,102,89,-41[ ]    treatAsRegex=true
    Wait For Line On Uart    ^@done status.ok[ ]    treatAsRegex=true

mobilenetv2_block
    [Documentation]    mobilenetv2_block on stm32f405: boots with the DWT counting, names the model, prints the golden logits of sample 0 and ends with status ok.
    Execute Command    $bin\=@${ELF_DIR}/mobilenetv2_block.elf
    Execute Command    $platform\=@${CURDIR}/stm32f405.repl
    Execute Command    $uart_port\=45678
    Execute Command    $quantum\="0.0001"
    Execute Script    ${CURDIR}/stm32f405.resc
    Create Terminal Tester    sysbus.usart1    timeout=5
    Register Failing Uart String    @fault
    Start Emulation
    Wait For Line On Uart    ^@boot .*counter.dwt[ ]    treatAsRegex=true
    Wait For Line On Uart    ^@model name.mobilenetv2_block[ ]    treatAsRegex=true
    Wait For Line On Uart    ^@logits sample.0 v.-57,-25,23,61[ ]    treatAsRegex=true
    Wait For Line On Uart    ^@done status.ok[ ]    treatAsRegex=true

mobilenetv1_published
    [Documentation]    mobilenetv1_published on stm32f405: boots with the DWT counting, names the model, prints the golden logits of sample 0 and ends with status ok.
    Execute Command    $bin\=@${ELF_DIR}/mobilenetv1_published.elf
    Execute Command    $platform\=@${CURDIR}/stm32f405.repl
    Execute Command    $uart_port\=45678
    Execute Command    $quantum\="0.0001"
    Execute Script    ${CURDIR}/stm32f405.resc
    Create Terminal Tester    sysbus.usart1    timeout=5
    Register Failing Uart String    @fault
    Start Emulation
    Wait For Line On Uart    ^@boot .*counter.dwt[ ]    treatAsRegex=true
    Wait For Line On Uart    ^@model name.mobilenetv1_published[ ]    treatAsRegex=true
    Wait For Line On Uart    ^@logits sample.0 v.75,63,16,-101[ ]    treatAsRegex=true
    Wait For Line On Uart    ^@done status.ok[ ]    treatAsRegex=true

mobilenetv1_friendly
    [Documentation]    mobilenetv1_friendly on stm32f405: boots with the DWT counting, names the model, prints the golden logits of sample 0 and ends with status ok.
    Execute Command    $bin\=@${ELF_DIR}/mobilenetv1_friendly.elf
    Execute Command    $platform\=@${CURDIR}/stm32f405.repl
    Execute Command    $uart_port\=45678
    Execute Command    $quantum\="0.0001"
    Execute Script    ${CURDIR}/stm32f405.resc
    Create Terminal Tester    sysbus.usart1    timeout=5
    Register Failing Uart String    @fault
    Start Emulation
    Wait For Line On Uart    ^@boot .*counter.dwt[ ]    treatAsRegex=true
    Wait For Line On Uart    ^@model name.mobilenetv1_friendly[ ]    treatAsRegex=true
    Wait For Line On Uart    ^@logits sample.0 v.75,57,63,-70[ ]    treatAsRegex=true
    Wait For Line On Uart    ^@done status.ok[ ]    treatAsRegex=true

kws_dscnn
    [Documentation]    kws_dscnn on stm32f405: boots with the DWT counting, names the model, prints the golden logits of sample 0 and ends with status ok.
    Execute Command    $bin\=@${ELF_DIR}/kws_dscnn.elf
    Execute Command    $platform\=@${CURDIR}/stm32f405.repl
    Execute Command    $uart_port\=45678
    Execute Command    $quantum\="0.0001"
    Execute Script    ${CURDIR}/stm32f405.resc
    Create Terminal Tester    sysbus.usart1    timeout=5
    Register Failing Uart String    @fault
    Start Emulation
    Wait For Line On Uart    ^@boot .*counter.dwt[ ]    treatAsRegex=true
    Wait For Line On Uart    ^@model name.kws_dscnn[ ]    treatAsRegex=true
    Wait For Line On Uart    ^@logits sample.0 v.-121,-119,-117,-127,42,-123,-120,-110,-114,-126,-127,-117[ ]    treatAsRegex=true
    Wait For Line On Uart    ^@done status.ok[ ]    treatAsRegex=true

vww_mobilenetv1
    [Documentation]    vww_mobilenetv1 on stm32f405: boots with the DWT counting, names the model, prints the golden logits of sample 0 and ends with status ok.
    Execute Command    $bin\=@${ELF_DIR}/vww_mobilenetv1.elf
    Execute Command    $platform\=@${CURDIR}/stm32f405.repl
    Execute Command    $uart_port\=45678
    Execute Command    $quantum\="0.0001"
    Execute Script    ${CURDIR}/stm32f405.resc
    Create Terminal Tester    sysbus.usart1    timeout=5
    Register Failing Uart String    @fault
    Start Emulation
    Wait For Line On Uart    ^@boot .*counter.dwt[ ]    treatAsRegex=true
    Wait For Line On Uart    ^@model name.vww_mobilenetv1[ ]    treatAsRegex=true
    Wait For Line On Uart    ^@logits sample.0 v.122,-122[ ]    treatAsRegex=true
    Wait For Line On Uart    ^@done status.ok[ ]    treatAsRegex=true

ic_resnet8
    [Documentation]    ic_resnet8 on stm32f405: boots with the DWT counting, names the model, prints the golden logits of sample 0 and ends with status ok.
    Execute Command    $bin\=@${ELF_DIR}/ic_resnet8.elf
    Execute Command    $platform\=@${CURDIR}/stm32f405.repl
    Execute Command    $uart_port\=45678
    Execute Command    $quantum\="0.0001"
    Execute Script    ${CURDIR}/stm32f405.resc
    Create Terminal Tester    sysbus.usart1    timeout=5
    Register Failing Uart String    @fault
    Start Emulation
    Wait For Line On Uart    ^@boot .*counter.dwt[ ]    treatAsRegex=true
    Wait For Line On Uart    ^@model name.ic_resnet8[ ]    treatAsRegex=true
    Wait For Line On Uart    ^@logits sample.0 v.-124,-128,-109,-126,-128,81,-126,-128,-128,-108[ ]    treatAsRegex=true
    Wait For Line On Uart    ^@done status.ok[ ]    treatAsRegex=true

ad_autoencoder
    [Documentation]    ad_autoencoder on stm32f405: boots with the DWT counting, names the model, prints the golden logits of sample 0 and ends with status ok.
    Execute Command    $bin\=@${ELF_DIR}/ad_autoencoder.elf
    Execute Command    $platform\=@${CURDIR}/stm32f405.repl
    Execute Command    $uart_port\=45678
    Execute Command    $quantum\="0.0001"
    Execute Script    ${CURDIR}/stm32f405.resc
    Create Terminal Tester    sysbus.usart1    timeout=5
    Register Failing Uart String    @fault
    Start Emulation
    Wait For Line On Uart    ^@boot .*counter.dwt[ ]    treatAsRegex=true
    Wait For Line On Uart    ^@model name.ad_autoencoder[ ]    treatAsRegex=true
    Wait For Line On Uart    ^@logits sample.0 v.-5,-5,-20,-29,30,32,37,-39,-73,28,66,-26,23,58,-22,-49,-17,6,6,3,-4,43,12,-12,-8,-15,1,80,-31,41,9,29,51,12,-70,-32,-27,46,37,-16,43,-16,-6,-32,-54,82,37,13,-47,7,41,17,41,26,-2,-29,3,5,26,-14,-23,56,32,64,36,-23,-6,33,2,-13,-7,2,15,29,34,49,40,-80,18,24,48,32,-27,30,47,30,-61,-11,30,-27,-5,35,-27,27,-13,-37,53,-2,72,71,-74,-8,29,24,19,8,27,38,8,-38,13,15,22,39,36,41,-6,-62,22,15,11,-34,-16,-36,21,5,9,53,-15,-20,-1,28,25,-31,30,55,-38,-7,-62,37,57,39,2,40,16,-22,14,26,31,41,23,28,-46,3,-8,31,8,-13,-30,-32,-44,29,-18,55,9,15,-23,2,-67,-22,-9,-31,16,-55,95,-46,57,61,-14,-1,-56,56,-10,52,-32,45,-63,28,-1,50,57,-44,-3,-53,-23,-28,17,5,1,-62,-68,7,-23,-22,24,74,19,21,-7,29,4,-19,24,44,69,27,28,4,12,18,17,0,6,10,9,-12,41,24,-26,-40,40,31,37,-59,11,10,51,-17,-41,35,-33,38,-8,-3,-9,20,-49,43,60,-35,-59,83,4,12,-17,-5,22,-6,80,13,7,5,30,32,45,-10,0,-24,-10,66,35,19,-24,2,31,-20,24,0,24,50,36,37,36,-9,-23,51,-3,39,53,-11,30,-58,11,58,-23,-2,-22,0,-5,-2,73,-41,-4,10,26,5,37,-20,-5,8,-4,-31,8,1,49,9,49,26,-16,55,-2,41,-51,-2,-72,43,4,70,16,57,8,-23,2,41,54,41,78,61,58,0,-28,26,-24,66,-9,34,-82,35,-6,13,-29,-23,33,-2,3,-44,26,61,-32,2,54,-7,50,28,-36,-26,-23,26,-34,41,37,67,-16,96,15,13,27,29,10,77,-3,24,-54,15,-4,39,-41,-33,-20,-17,41,22,-5,40,42,-50,19,-37,26,25,1,-45,26,-38,-97,31,6,58,-7,-19,63,18,-20,-5,8,-31,48,9,0,68,-24,-30,-45,-7,72,-3,-45,-8,-1,33,-18,38,5,-18,-8,42,43,72,17,30,19,-11,47,32,11,23,27,-23,68,-18,50,-25,0,-24,31,-45,-16,24,1,20,-16,-26,-2,-42,-9,58,34,55,-4,57,-39,-15,1,16,41,28,-7,-8,-37,27,29,6,7,-75,1,49,-19,55,74,36,40,-34,-8,12,10,32,-26,15,51,42,-10,24,25,1,89,-45,87,6,21,-12,26,-10,-36,4,13,59,6,2,-1,56,30,13,-20,-39,55,96,47,48,36,9,20,-19,-14,-50,16,51,73,37,-17,21,7,-3,48,27,4,69,5,-29,37,92,-12,-43,-6,-11,7,-6,38,75,79,-1,-4,30,16,23,-42,-31,31,31,-57,-5,-22,-19,-50,6,49,-6,53,18,20,-29,29,16,56,-49,30,-18,-1,-36,-45,33,-14,33,38,11,65,7,-45,25,-14,-57,-20,-17,40,-69,4,-26,50,-3,29,14,-11,124,5,14,48,-35,103,-34,-29,21,-33,59,-46,-29,23,37,37,28,21,-10,-30,-12,-13,31,57,5,-70,-24,-19,-28[ ]    treatAsRegex=true
    Wait For Line On Uart    ^@done status.ok[ ]    treatAsRegex=true
