*** Settings ***
Documentation     Stands in for Renode's renode-keywords.robot in a dry run of a renode-test suite:
...               renode-test adds its renode-keywords.robot to each suite as a Resource import
...               (robot_tests_provider.py) and the suite calls the keywords it brings; here they
...               come from FakeRenode.py, which records each call and reads a UART transcript.
Library           ${CURDIR}/FakeRenode.py
