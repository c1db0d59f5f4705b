"""A process id that belonged to a process which has ended."""
import subprocess
import sys


def dead_pid():
    """PID of a child that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, '-c', ''])
    child.wait()
    return child.pid
