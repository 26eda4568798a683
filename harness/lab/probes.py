"""Security probe: does a station refuse a CSMS whose certificate it must not trust?

:class:`UntrustedServerProbe` listens for ``wss://`` with a server certificate from a
throw-away CA (made by :func:`make_untrusted_certificate`, so no station can trust it) and
judges each connection attempt by how far the station goes:

* the TLS handshake fails (the station sent an alert such as ``TLSV1_ALERT_UNKNOWN_CA``, or
  dropped the connection before finishing it), or the station closes the TLS session without
  sending its WebSocket upgrade request — **PASS**: it refused the certificate;
* the station sends its HTTP upgrade request (``GET /{id}``) over that session — **FAIL**: it
  would have talked OCPP to an impostor (answered ``503``, then closed);
* nothing within ``request_timeout_s`` — **INCONCLUSIVE** (neither refused nor accepted).

Requirement (OCPP 2.0.1 Part 2 A00 — security profiles 2 and 3; OCPP 1.6 security
whitepaper §2): the Charging Station verifies the CSMS's server certificate against its
trusted CSMS root certificate and does not connect when that fails.

The probe sees the station's id only when the station fails (the id is in the request path);
a refusing station is known by its address.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from harness.clock import Clock
from harness.results import (
    CaseInfo,
    CaseResult,
    CheckResult,
    DeviceKind,
    DeviceRef,
    Level,
    Manifest,
    Requirement,
    RunStore,
    RunWriter,
    Verdict,
    new_run_id,
)
from harness.security.certs import CertificatePair, create_ca, create_server_certificate
from harness.transport import OcppSubprotocol

__all__ = [
    "PROBE_CASE_ID",
    "UNTRUSTED_SERVER_REQUIREMENT",
    "ProbeAttempt",
    "ProbeRecorder",
    "UntrustedServerProbe",
    "make_untrusted_certificate",
]

UNTRUSTED_SERVER_REQUIREMENT: Final = Requirement(
    "SEC-SERVER-CERT",
    Level.MUST,
    "the station verifies the CSMS certificate against its trusted root and does not "
    "connect to a CSMS whose certificate fails (security profiles 2 and 3)",
)


@dataclass(frozen=True, slots=True)
class ProbeAttempt:
    """One connection to the probe and its verdict (PASS, FAIL or INCONCLUSIVE)."""

    remote: str
    verdict: Verdict
    expected: str
    actual: str
    station_id: str | None
    at: datetime


def make_untrusted_certificate(folder: Path, *, now: datetime) -> CertificatePair:
    """A CA nobody trusts, and a server certificate for localhost/127.0.0.1/::1 from it."""
    create_ca(folder, now=now, ca_name="ocpp-harness UNTRUSTED probe CA", force=True)
    return create_server_certificate(folder, now=now, force=True)


_EXPECTED = "the station refuses the untrusted certificate (no WebSocket upgrade request)"


class UntrustedServerProbe:
    """A ``wss://`` listener with an untrusted certificate; see the module docstring.

    ``on_attempt`` is called with each judged attempt (they are also in :attr:`attempts`).
    """

    def __init__(
        self,
        certificate: CertificatePair,
        *,
        clock: Clock,
        host: str = "127.0.0.1",
        port: int = 0,
        request_timeout_s: float = 10.0,
        on_attempt: Callable[[ProbeAttempt], None] | None = None,
    ) -> None:
        self.clock = clock
        self.host, self.port = host, port
        self.request_timeout_s = request_timeout_s
        self.attempts: list[ProbeAttempt] = []
        self._on_attempt = on_attempt
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(certificate.cert_file, certificate.key_file)
        self._context = context
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        """``wss://HOST:PORT`` (append ``/{station id}``)."""
        return f"wss://{self.host}:{self.port}"

    async def start(self) -> None:
        """Start listening (``port`` 0 picks a free one)."""
        self._server = await asyncio.start_server(self._accepted, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stop listening and drop connections still being judged."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(BaseException):
                await task

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        peer = writer.get_extra_info("peername")
        remote = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        try:
            self._judged(remote, *await self._judge(reader, writer))
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            if task is not None:
                self._tasks.discard(task)

    async def _judge(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tuple[Verdict, str, str | None]:
        # TLS by hand over memory buffers: every alert, EOF and byte is seen (asyncio's own
        # TLS hides a handshake that fails, and start_tls loses bytes read before it).
        session = _Session(self._context, reader, writer)
        timeout_s = self.request_timeout_s
        try:
            await self.clock.wait_for(session.handshake(), timeout_s)
        except ssl.SSLError as exc:
            return Verdict.PASS, f"the TLS handshake failed: {exc.reason or exc}", None
        except (EOFError, ConnectionError):
            return Verdict.PASS, "the station dropped the connection during TLS setup", None
        except TimeoutError:
            return (
                Verdict.INCONCLUSIVE,
                f"the TLS handshake did not end within {timeout_s:g} s",
                None,
            )
        try:
            head = await self.clock.wait_for(session.request_head(), timeout_s)
        except ssl.SSLError as exc:
            # TLS 1.3: a station's alert about our certificate arrives after our handshake.
            return Verdict.PASS, f"the station ended the TLS session: {exc.reason or exc}", None
        except (EOFError, ConnectionError):
            if session.received:
                return Verdict.FAIL, "the station sent part of an HTTP request, then closed", None
            return (
                Verdict.PASS,
                "the station closed the TLS session without sending its WebSocket upgrade request",
                None,
            )
        except TimeoutError:
            if session.received:
                return Verdict.FAIL, "the station sent part of an HTTP request over it", None
            return (
                Verdict.INCONCLUSIVE,
                f"the TLS session stayed open without a request for {timeout_s:g} s",
                None,
            )
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = request_line.split()
        path = parts[1] if len(parts) >= 2 else ""
        station_id = path.rstrip("/").rsplit("/", 1)[-1] or None
        with contextlib.suppress(Exception):
            await session.send(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
        return (
            Verdict.FAIL,
            f"the station accepted the untrusted certificate and sent {request_line!r}",
            station_id,
        )

    def _judged(self, remote: str, verdict: Verdict, actual: str, station_id: str | None) -> None:
        attempt = ProbeAttempt(remote, verdict, _EXPECTED, actual, station_id, self.clock.now())
        self.attempts.append(attempt)
        if self._on_attempt is not None:
            self._on_attempt(attempt)


class _Session:
    """A server-side TLS session over a plain stream, through :class:`ssl.MemoryBIO`."""

    def __init__(
        self, context: ssl.SSLContext, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self._in, self._out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._in, self._out, server_side=True)
        self._reader, self._writer = reader, writer
        self.received = b""

    async def _flush(self) -> None:
        data = self._out.read()
        if data:
            self._writer.write(data)
            await self._writer.drain()

    async def _fill(self) -> None:
        data = await self._reader.read(65536)
        if not data:
            raise EOFError("the peer closed the connection")
        self._in.write(data)

    async def handshake(self) -> None:
        while True:
            try:
                self._tls.do_handshake()
            except ssl.SSLWantReadError:
                await self._flush()
                await self._fill()
                continue
            except ssl.SSLError:
                with contextlib.suppress(Exception):
                    await self._flush()  # our alert, for the record
                raise
            await self._flush()
            return

    async def request_head(self) -> bytes:
        """The HTTP request head (up to the blank line), or an error if none comes."""
        while b"\r\n\r\n" not in self.received:
            try:
                self.received += self._tls.read(65536)
            except ssl.SSLWantReadError:
                await self._flush()
                await self._fill()
            except ssl.SSLZeroReturnError:
                raise EOFError("the peer closed the TLS session") from None
            if len(self.received) > 65536:
                break
        return self.received

    async def send(self, data: bytes) -> None:
        self._tls.write(data)
        await self._flush()


PROBE_CASE_ID: Final = "SEC_UNTRUSTED_SERVER"


class ProbeRecorder:
    """Writes each probe attempt as a case result into one run folder, as it is judged.

    The folder (``OUT/<run id>-untrusted-server-probe``) is created at the first attempt;
    each attempt is one result of case ``SEC_UNTRUSTED_SERVER`` whose device is the station
    (its id when it said it, else its address) with the attempt number.
    """

    def __init__(self, out: Path, *, clock: Clock, target: str) -> None:
        self.out, self.clock, self.target = out, clock, target
        self.writer: RunWriter | None = None
        self._count = 0

    @property
    def run_dir(self) -> Path | None:
        """The run folder, once an attempt was recorded."""
        return None if self.writer is None else self.writer.run_dir

    def record(self, attempt: ProbeAttempt) -> None:
        """Store ``attempt`` (in the file at once, fsynced within 0.2 s)."""
        if self.writer is None:
            run_id = f"{new_run_id(started_at=attempt.at)}-untrusted-server-probe"
            manifest = Manifest(run_id, attempt.at, self.target, ())
            self.writer = RunStore.create(self.out, manifest)
        self._count += 1
        who = attempt.station_id or f"station at {attempt.remote}"
        device = DeviceRef(DeviceKind.STATION, f"{who} #{self._count}", who)
        info = CaseInfo(
            case_id=PROBE_CASE_ID,
            title="The station refuses a CSMS certificate from an untrusted CA",
            suite="security",
            category="security",
            ocpp_version=OcppSubprotocol.V201,
            devices=(device,),
            parameters={},
        )
        if attempt.verdict is Verdict.INCONCLUSIVE:
            check = CheckResult.inconclusive(
                UNTRUSTED_SERVER_REQUIREMENT, expected=attempt.expected, reason=attempt.actual
            )
        else:
            check = CheckResult.judge(
                UNTRUSTED_SERVER_REQUIREMENT,
                ok=attempt.verdict is Verdict.PASS,
                expected=attempt.expected,
                actual=attempt.actual,
            )
        self.writer.write_result(CaseResult(info, attempt.at, attempt.at, 0.0, checks=(check,)))

    def finish(self) -> None:
        """Mark the run folder finished (if one was made)."""
        if self.writer is not None:
            self.writer.finish(finished_at=self.clock.now())
