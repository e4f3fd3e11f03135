"""One exception type for every user-facing error.

The CLI turns it into a single line on stderr and exit code 2; library code raises it with a
message that names the offending file, key or value.
"""


class KcompressdError(Exception):
    """A problem with the user's input or machine, reported as one line and exit code 2."""

    exit_code = 2
