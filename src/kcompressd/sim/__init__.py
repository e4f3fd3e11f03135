"""The discrete-event core (`core`) and the simulator entry point (`run.simulate`)."""
