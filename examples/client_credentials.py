"""From an OAuth client id and secret to a downloaded CSV export, in five lines.

    make serve SERVE_ARGS='--oauth-client vci_dev:vcs_dev'
    CLIENT_ID=vci_dev CLIENT_SECRET=vcs_dev python examples/client_credentials.py

The id and secret come from the environment, so they show up in neither the process list nor the shell
history. Against the vendor set ``API=https://api.vanta.com`` (FedRAMP: ``https://api.vanta-gov.com``) and
``QUESTIONNAIRE_ID`` to one of yours. One ``ClientCredentials`` per process: a second one for the same
application would revoke this one's token (one active token per application).
"""

import os

from questionnaire_exports_client import Client
from questionnaire_exports_client.lib import ClientCredentials, create_and_wait, download_export

api = os.environ.get("API", "http://127.0.0.1:8080")
questionnaire_id = os.environ.get("QUESTIONNAIRE_ID", "65a5d6e2f1a2b3c4d5e6f7a8")

# five lines:
auth = ClientCredentials(os.environ["CLIENT_ID"], os.environ["CLIENT_SECRET"], token_url=api + "/oauth/token")
client = Client(base_url=api + "/v1", httpx_args={"auth": auth})
export = create_and_wait(client, questionnaire_id, format_="csv", timeout=300)
path = download_export(client, export, ".")
print(path)
