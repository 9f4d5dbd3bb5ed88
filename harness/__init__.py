"""cortexm-harness: prove an int8 network compiled for Cortex-M is bit-exact with its Python
reference, and measure it, on an emulated STM32."""

__version__ = "0.1.0"
