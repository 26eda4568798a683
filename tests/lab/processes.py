"""Run ``python -m harness ...`` as child processes and collect their output (lab tests)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Child:
    """A running ``python -m harness`` with its output lines gathered as they come."""

    args: tuple[str, ...]
    process: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = None

    @classmethod
    async def start(
        cls, *args: str, env: dict[str, str] | None = None, stdin: bytes | None = None
    ) -> Child:
        """Start ``python -m harness ARGS``; ``stdin``: what it reads (default: nothing)."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "harness",
            *args,
            cwd=REPO,
            stdin=asyncio.subprocess.DEVNULL if stdin is None else asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
        if stdin is not None:
            assert process.stdin is not None
            process.stdin.write(stdin)
            await process.stdin.drain()
            process.stdin.close()
        child = cls(args, process)
        child._reader = asyncio.create_task(child._read())
        return child

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    async def wait_for_line(self, pattern: str, *, timeout_s: float) -> re.Match[str]:
        """The first output line matching ``pattern`` (waits for it)."""
        regex = re.compile(pattern)

        async def scan() -> re.Match[str]:
            while True:
                for line in self.lines:
                    if found := regex.search(line):
                        return found
                if self.process.returncode is not None and self._reader and self._reader.done():
                    raise AssertionError(f"{self.args} exited without {pattern!r}:\n{self.output}")
                await asyncio.sleep(0.05)

        return await asyncio.wait_for(scan(), timeout_s)

    async def wait(self, *, timeout_s: float) -> int:
        """The exit status (killing the child if it takes longer than ``timeout_s``)."""
        try:
            code = await asyncio.wait_for(self.process.wait(), timeout_s)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise AssertionError(
                f"{self.args} did not exit in {timeout_s} s:\n{self.output}"
            ) from None
        if self._reader is not None:
            await self._reader
        return code

    async def stop(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.process.wait(), 5)
            if self.process.returncode is None:
                self.process.kill()
                await self.process.wait()
        if self._reader is not None:
            with contextlib.suppress(BaseException):
                await self._reader
