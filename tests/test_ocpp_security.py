"""Security profiles 1 and 2: basic auth, and TLS with the CSMS's certificate checked."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from pathlib import Path

from gateway.ocpp.clock import VirtualClock
from gateway.ocpp.station import Station
from tests.csms import Csms
from tests.harness import Charger
from tests.ocpp_rig import EPOCH, PASSWORD, STATION_ID, SimController, settings


def make_ca(folder: Path, name: str) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for localhost signed by it (openssl CLI)."""
    ca_key, ca_crt = folder / f"{name}-ca.key", folder / f"{name}-ca.crt"
    key, csr, crt = folder / f"{name}.key", folder / f"{name}.csr", folder / f"{name}.crt"
    ext = folder / f"{name}.ext"
    # The extensions RFC 5280 asks for: Python 3.13's default context verifies strictly
    # (VERIFY_X509_STRICT) and refuses a CA without key usage, a leaf without its issuer's key id.
    ext.write_text("subjectAltName=DNS:localhost\nbasicConstraints=critical,CA:FALSE\n"
                   "keyUsage=critical,digitalSignature,keyEncipherment\n"
                   "extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\n"
                   "authorityKeyIdentifier=keyid,issuer\n")
    run = lambda *a: subprocess.run(["openssl", *a], check=True,  # noqa: E731
                                    capture_output=True)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out",
        str(ca_crt), "-days", "2", "-subj", f"/CN={name} test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
        "-subj", "/CN=localhost")
    run("x509", "-req", "-in", str(csr), "-CA", str(ca_crt), "-CAkey", str(ca_key),
        "-CAcreateserial", "-out", str(crt), "-days", "2", "-extfile", str(ext))
    return ca_crt, crt, key


def server_tls(crt: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(crt), str(key))
    return context


async def run_station(tmp_path: Path, csms: Csms, seconds: float, **changes: object) -> Station:
    charger = Charger()
    clock = VirtualClock(EPOCH)
    station = Station(settings(csms, str(tmp_path / "s.sqlite3"), **changes), clock)
    task = asyncio.create_task(station.run(SimController(charger)))
    try:
        for _ in range(int(seconds)):
            # the station's tasks all waiting on the clock (its watch and a back-off or a
            # heartbeat) before time moves on: a connection attempt is never overtaken
            async with asyncio.timeout(10):
                while clock.sleepers < 2:
                    await asyncio.sleep(0.005)
            clock.advance(1.0)
            await asyncio.sleep(0.005)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        station.close()
        charger.close()
    return station


def test_profile_1_a_wrong_password_is_refused_and_retried_with_back_off(
        tmp_path: Path) -> None:
    async def main() -> None:
        csms = Csms(STATION_ID, password="not-" + PASSWORD)
        await csms.start()
        try:
            await run_station(tmp_path, csms, 40)
        finally:
            await csms.stop()
        assert not csms.of("BootNotification")
        # attempts at 0, 2, 6, 14 and 30 s (back-off 2 s doubling): not one a second
        assert csms.refused_auth == 5, csms.refused_auth

    asyncio.run(main())


def test_profile_2_boots_over_tls_with_the_csms_certificate_checked(tmp_path: Path) -> None:
    async def main() -> None:
        ca, crt, key = make_ca(tmp_path, "good")
        csms = Csms(STATION_ID, password=PASSWORD, tls=server_tls(crt, key))
        await csms.start()
        try:
            await run_station(tmp_path, csms, 5, security_profile=2, csms_url=csms.url,
                              ca_file=str(ca))
        finally:
            await csms.stop()
        assert len(csms.of("BootNotification")) == 1

    asyncio.run(main())


def test_profile_2_an_untrusted_certificate_never_gets_the_password(tmp_path: Path) -> None:
    async def main() -> None:
        good_ca, _, _ = make_ca(tmp_path, "good")
        _, evil_crt, evil_key = make_ca(tmp_path, "evil")
        csms = Csms(STATION_ID, password=PASSWORD, tls=server_tls(evil_crt, evil_key))
        seen: list[str] = []
        check = csms._check
        csms._check = lambda conn, req: seen.append(req.path) or check(conn, req)  # type: ignore[method-assign]
        await csms.start()
        try:
            station = await run_station(tmp_path, csms, 10, security_profile=2,
                                        csms_url=csms.url, ca_file=str(good_ca))
        finally:
            await csms.stop()
        assert not seen, "no HTTP request (and no Authorization header) reached the server"
        assert not csms.of("BootNotification") and station.link.connects == 0

    asyncio.run(main())
