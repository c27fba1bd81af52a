"""The webhook verification examples in docs/partner-api.md, run against Kindred's signer.

Each example sits between `<!-- webhook-verify-<language>:begin -->` and
`<!-- webhook-verify-<language>:end -->`. A wrong example (a signature that does not
verify, a forgery, a stale timestamp or a malformed header that does) fails here.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from partners.webhooks import webhook_signature

DOC = Path(__file__).resolve().parents[2] / "docs" / "partner-api.md"
SECRET = "whsec_docs-example-secret"
OLD_SECRET = "whsec_docs-example-old-secret"
BODY = (
    b'{"id":"603fc096-0521-497d-b89c-3752914e025b","type":"customer.linked",'
    b'"created_at":"2026-12-06T03:03:20.583502Z",'
    b'"data":{"customer":"b48394f7-d2b0-4509-b8ed-3ec9a8f20064","external_id":"m-\xc3\xa9"}}'
)


def example(name: str, language: str, doc: str = DOC.name) -> str:
    """The code of one marked example in `doc` (under docs/): a single fenced block between
    its markers."""
    text = (DOC.parent / doc).read_text(encoding="utf-8")
    found = re.findall(
        rf"<!-- {name}:begin -->\s*```{language}\n(.*?)```\s*<!-- {name}:end -->",
        text,
        flags=re.DOTALL,
    )
    assert len(found) == 1, f"docs/{doc} needs exactly one marked {name} example"
    return found[0]


def cases() -> list[tuple[str, str, bytes, bool]]:
    """(secret, header, body, whether it must verify)."""
    now = int(time.time())
    good = webhook_signature(secrets=[SECRET], timestamp=now, body=BODY)
    digest = good.split("v1=", 1)[1]
    rotating = webhook_signature(secrets=[SECRET, OLD_SECRET], timestamp=now, body=BODY)
    return [
        (SECRET, good, BODY, True),
        (SECRET, webhook_signature(secrets=[SECRET], timestamp=now - 60, body=BODY), BODY, True),
        (SECRET, rotating, BODY, True),
        (OLD_SECRET, rotating, BODY, True),
        (OLD_SECRET, good, BODY, False),
        ("whsec_another-secret", rotating, BODY, False),
        (SECRET, rotating, BODY + b" ", False),
        (SECRET, good.replace(",", ", "), BODY, True),
        (SECRET, good, BODY.replace(b"m-", b"x-"), False),
        (SECRET, good, BODY + b" ", False),
        ("whsec_another-secret", good, BODY, False),
        (SECRET.removeprefix("whsec_"), good, BODY, False),
        (SECRET, webhook_signature(secrets=[SECRET], timestamp=now - 3600, body=BODY), BODY, False),
        (SECRET, webhook_signature(secrets=[SECRET], timestamp=now + 3600, body=BODY), BODY, False),
        (SECRET, f"t={now + 1},v1={digest}", BODY, False),
        (SECRET, f"t={now},v1={digest[:-1]}", BODY, False),
        (SECRET, f"t={now},v1={digest.upper()}0", BODY, False),
        (SECRET, f"v1={digest}", BODY, False),
        (SECRET, f"t={now}", BODY, False),
        (SECRET, f"t=soon,v1={digest}", BODY, False),
        (SECRET, "", BODY, False),
        (SECRET, "garbage", BODY, False),
    ]


def test_the_python_example_verifies_kindreds_signatures():
    code = example("webhook-verify-python", "python")
    assert "compare_digest" in code, "the comparison must be constant-time"
    namespace: dict = {}
    exec(compile(code, str(DOC), "exec"), namespace)  # noqa: S102 - our own documentation
    verify = namespace["verify_kindred_signature"]
    for secret, header, body, expected in cases():
        assert verify(secret, header, body) is expected, (header, body)


def test_the_javascript_example_verifies_kindreds_signatures(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    code = example("webhook-verify-node", "javascript")
    assert "timingSafeEqual" in code, "the comparison must be constant-time"
    script = tmp_path / "verify.js"
    script.write_text(
        code
        + """
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
const results = cases.map(([secret, header, body]) =>
  verifyKindredSignature(secret, header, Buffer.from(body, "base64")));
process.stdout.write(JSON.stringify(results));
""",
        encoding="utf-8",
    )
    given = cases()
    payload = [
        [secret, header, base64.b64encode(body).decode()]
        for secret, header, body, _expected in given
    ]
    run = subprocess.run(
        [node, str(script)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    results = json.loads(run.stdout)
    for (_secret, header, body, expected), result in zip(given, results, strict=True):
        assert result is expected, (header, body)


def test_the_sample_request_carries_a_real_signature():
    """The sample webhook request in the docs is signed with the secret `whsec_example`."""
    text = DOC.read_text(encoding="utf-8")
    found = re.search(r"Kindred-Signature: (t=(\d+),v1=[0-9a-f]{64})\n\n(\{.*\})\n", text)
    assert found, "docs/partner-api.md shows a sample webhook request"
    header, timestamp, body = found.groups()
    assert header == webhook_signature(
        secrets=["whsec_example"], timestamp=int(timestamp), body=body.encode()
    )
