"""`conformance run` with client credentials: the options, the variables and the token URL, checked up front.

Why the variables and not options: a secret on the command line ends up in shell history and process lists
(as with `--token-env`). With both variables set the suite mints its own tokens (`conformance/oauth.py`);
with one of them only, nothing is sent.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from urllib.parse import urlsplit

from questionnaire_exports_client.lib.oauth import token_request_body

import contract

from .config import OAuthConfig, is_loopback
from .exits import UsageError

DEFAULT_CLIENT_ID_ENV = "CONFORMANCE_CLIENT_ID"
DEFAULT_CLIENT_SECRET_ENV = "CONFORMANCE_CLIENT_SECRET"


def add_options(run: argparse.ArgumentParser) -> None:
    """The client-credentials options of `conformance run`."""
    run.add_argument(
        "--client-id-env",
        default=DEFAULT_CLIENT_ID_ENV,
        help="variable holding the OAuth client id (with the secret: the suite mints its own tokens)",
    )
    run.add_argument(
        "--client-secret-env",
        default=DEFAULT_CLIENT_SECRET_ENV,
        help="variable holding the OAuth client secret",
    )
    run.add_argument(
        "--token-url", help=f"token endpoint (default: the origin of --base-url + {contract.token_path()})"
    )
    run.add_argument("--scope", help="space-separated scopes to ask for (default: none sent)")
    run.add_argument(
        "--check-revocation",
        action="store_true",
        help="mint a newer token and check that the older one answers 401 (revokes: off by default)",
    )


def client_pair(args: argparse.Namespace, env: Mapping[str, str]) -> tuple[str, str] | None:
    """The client id and secret when both variables are set, None when neither is; one alone is bad usage."""
    client_id = env.get(args.client_id_env, "")
    secret = env.get(args.client_secret_env, "")
    if not client_id and not secret:
        return None
    if not client_id or not secret:
        missing = args.client_id_env if not client_id else args.client_secret_env
        raise UsageError(f"set {missing} too (client credentials need both the id and the secret)")
    return client_id, secret


def oauth_config(
    args: argparse.Namespace, pair: tuple[str, str], base_url: str, *, max_token_requests: int = 4
) -> OAuthConfig:
    """The run's client credentials and token URL (default: `base_url`'s origin + the token path)."""
    if args.token_url is not None:
        url = args.token_url
    else:
        parts = urlsplit(base_url)
        url = f"{parts.scheme}://{parts.netloc}{contract.token_path()}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise UsageError("--token-url must be an http(s) URL without user info")
    if parts.scheme == "http" and not is_loopback(url):
        raise UsageError(
            "--token-url must be https (plain http only to a loopback host): the secret travels in it"
        )
    client_id, secret = pair
    config = OAuthConfig(
        client_id=client_id,
        client_secret=secret,
        token_url=url,
        scope=args.scope or None,
        check_revocation=args.check_revocation,
        id_env=args.client_id_env,
        secret_env=args.client_secret_env,
        max_token_requests=max_token_requests,
    )
    _check_request(config)
    return config


def _check_request(config: OAuthConfig) -> None:
    """The token request must fit `oauth-token.yaml` before it is sent (named by variable, never by value)."""
    body = token_request_body(config.client_id, config.client_secret, config.scope)
    names = {"client_id": config.id_env, "client_secret": config.secret_env, "scope": "--scope"}
    for error in contract.token_request_validator().iter_errors(body):
        field = str(error.absolute_path[0]) if error.absolute_path else ""
        raise UsageError(
            f"{names.get(field, field or 'the token request')} does not fit oauth-token.yaml's token request "
            f"({error.validator})"
        )
