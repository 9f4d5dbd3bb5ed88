*** Settings ***
Documentation     An imported .tflite file through the harness's keywords: the project's own
...               examples/tflite/tiny_classifier.tflite, checked against the TFLite interpreter, the
...               integer reference and its golden file.
Library           harness.robot.HarnessLibrary
Suite Setup       Build Firmware    ${CURDIR}/../../examples/tflite/tiny_classifier.tflite
Test Teardown     Stop Emulator

*** Test Cases ***
An Imported Model Verifies Four Ways
    Run Model And Verify    ${CURDIR}/../../examples/tflite/tiny_classifier.tflite

Its Logits Match The Reference And The Golden File
    Start Emulator    qemu
    ${status}=    Run To Completion
    Should Be Equal    ${status}    ok
    Logits Should Match Reference
    Logits Should Match Golden
