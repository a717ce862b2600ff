"""OAuth through the proxy: a client's token request passes unchanged and is judged against
`oauth-token.yaml`, and no client secret or access token reaches the HAR, although the proxy was never told
either (it learns only `Authorization` credentials).

A proxy sees other people's credentials; only the redaction module's structural rule (credential members of
JSON bodies, RFC 6749 sections 4.4 and 5.1) can hide a secret nobody `add`-ed.
"""

from __future__ import annotations

import re
from pathlib import Path

from questionnaire_exports_client import Client
from questionnaire_exports_client.lib import ClientCredentials, create_and_wait, download_export
from questionnaire_exports_client.redact import REDACTED, Redactor

import contract
from conformance import embedded
from conformance.proxy import Proxy, ProxyConfig, Upstream, quiet_aborts
from conformance.proxy_log import ExchangeLog
from conformance.traffic.har import write_har
from conformance.traffic.judge import TrafficConfig, TrafficJudge
from reference_server.seed import SPREADSHEET_QUESTIONNAIRE_ID
from reference_server.testing import running_server

from .upstreams import LateBound

CLIENT_ID = "vci_proxy_oauth"
SECRET = "vcs_proxy-oauth-secret-5Tg8"


def test_a_token_request_through_the_proxy_leaves_no_credential_in_the_har(tmp_path: Path) -> None:
    late = LateBound()
    lines: list[str] = []
    with quiet_aborts(), embedded.serving(late, "127.0.0.1", 0, name="proxy") as port:
        origin = f"http://127.0.0.1:{port}"
        with running_server(
            tokens=(), oauth_clients=((CLIENT_ID, SECRET),), public_url=origin, in_memory=True, export_delay=0
        ) as server:
            redactor = Redactor()
            judge = TrafficJudge(TrafficConfig(base_url=server.base_url), redactor, lines.append)
            log = ExchangeLog(judge, redactor, lines.append, keep=True)
            late.app = Proxy(ProxyConfig(Upstream.parse(server.base_url)), log)
            auth = ClientCredentials(CLIENT_ID, SECRET, token_url=origin + contract.token_path())
            with Client(base_url=origin + "/v1", httpx_args={"auth": auth}) as client:
                export = create_and_wait(client, SPREADSHEET_QUESTIONNAIRE_ID, format_="csv", timeout=30)
                path = download_export(client, export, tmp_path)
            assert server.runtime.oauth.issued[CLIENT_ID] == 1  # the proxy forwarded the one token request
    log.close()
    assert path.stat().st_size > 0
    report = judge.report("proxy", 0.0)
    assert report.conforming, [f.message for f in report.findings]
    assert any("1 token endpoint exchange" in note for note in report.notes)  # judged, not just forwarded
    assert SECRET not in "\n".join(lines)
    har = tmp_path / "proxy.har"
    write_har(har, log.entries, log.redactor)
    text = har.read_text(encoding="utf-8")
    assert contract.token_path() in text  # the token exchange is in the file...
    assert CLIENT_ID in text
    assert SECRET not in text  # ...without its secret
    assert f'\\"client_secret\\":\\"{REDACTED}\\"' in text
    # Downloads' and the token answer's bodies are not kept; any access token that is, is hidden.
    assert set(re.findall(r'access_token\\"\\s*:\\s*\\"([^\\\\"]*)', text)) <= {REDACTED}
    assert set(re.findall(r"Bearer (\S+?)\"", text)) == {REDACTED}


def test_credential_members_are_hidden_whoever_wrote_them() -> None:
    red = Redactor()
    body = '{"client_id": "vci_x", "client_secret" : "a\\"b", "grant_type": "client_credentials"}'
    assert red.text(body) == (
        f'{{"client_id": "vci_x", "client_secret" : "{REDACTED}", "grant_type": "client_credentials"}}'
    )
    answer = '{"access_token":"eyJ.x.y","expires_in":3600,"refresh_token":"r1","token_type":"Bearer"}'
    assert red.text(answer) == (
        f'{{"access_token":"{REDACTED}","expires_in":3600,"refresh_token":"{REDACTED}","token_type":"Bearer"}}'
    )
    assert red.text('{"client_secret":"cut-in-the-midd') == f'{{"client_secret":"{REDACTED}'
    assert red.text("client_id=vci&client_secret=s3cr3t&grant_type=x") == (
        f"client_id=vci&client_secret={REDACTED}&grant_type=x"
    )
    assert (
        red.text('{"secretary": "kept", "token_type": "Bearer"}')
        == '{"secretary": "kept", "token_type": "Bearer"}'
    )
