"""Checks on the output of a tool that was given bad input."""


def assert_one_error_line(result, *fragments):
    """Exit status 1, no traceback, one ``error:`` line holding each
    fragment; returns that line."""
    assert result.returncode == 1, result.stderr[-3000:]
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if 'error:' in line]
    assert len(errors) == 1, result.stderr[-3000:]
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]
