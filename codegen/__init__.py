"""The generator: reads spec/, writes the generated part of sdk/modelwire.

Build-time only: the installed package never imports it.
"""
