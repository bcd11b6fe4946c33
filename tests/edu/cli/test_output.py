"""Is the log of a long run readable while the run goes on?"""

import os
import subprocess
import sys


def test_is_each_line_written_when_printed_into_a_file(tmp_path):
    """With its output sent to a file, as a run left in the background is, does ``edu``
    write each line at once (line-buffered), not when a block of them fills a buffer?"""
    code = (
        "import sys\n"
        "from edu.cli.main import main\n"
        "main(['evaluate', 'missing.pt'])\n"
        "print('line')\n"
        "sys.stderr.write(open('log').read())\n"
        "sys.stderr.flush()\n"
        "import os\n"
        "os._exit(0)  # unflushed output is lost: what the file holds is what was written\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
    with open(tmp_path / "log", "w") as log:
        done = subprocess.run(
            [sys.executable, "-c", code],
            stdout=log,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=120,
        )
    assert done.stderr.endswith("line\n"), done.stderr
