"""Reading one getProducts page of N articles: this client's reader vs zeep (+ serialize_object).

    .venv/bin/python bench/mplus_client_bench.py [articles]

The page is fetched once from a local sandbox; then only the reply parsing is timed (median of 5).
"""

from __future__ import annotations

import statistics
import sys
import time

from lxml import etree
from zeep.helpers import serialize_object

from apicenter_sandbox import world
from apicenter_sandbox.http import SandboxServer
from apicenter_sandbox.mplus import MplusSandbox
from apicenter_sync.clients import MplusClient
from apicenter_sync.mplus_wsdl import SOAP_ENV_NS, safe_parser


def _median_ms(fn) -> float:
    times = []
    for _ in range(5):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main(articles: int = 1000) -> None:
    app = MplusSandbox(world.generate(max(articles * 2, 200)))
    request = {"request": {"pluNumbers": {}, "syncMarker": 0, "syncMarkerLimit": articles}}
    with SandboxServer(app) as srv, MplusClient(srv.url, app.ident, app.secret) as client:
        # Private hooks on purpose: the benchmark separates parsing from the HTTP round trip.
        envelope, headers = client._binding._create(
            "getProducts", (), request, client=client._zeep, options=client._options
        )
        response = client.transport.post_xml(client.url, envelope, headers)
        operation = client._binding.get("getProducts")
        parser = safe_parser(huge=True)

        def ours():
            element = etree.fromstring(response.content, parser).find(f"{{{SOAP_ENV_NS}}}Body")[0]
            return client._reader.read(element, operation.output.body)

        def zeep_objects():
            return client._binding.process_reply(client._zeep, operation, response)

        page = ours()["productList"]["product"]
        print(
            f"page: {len(response.content) / 1e6:.2f} MB, {sum(len(p['articleList']['article']) for p in page)} articles"
        )
        print(f"client reader (lxml + dicts):   {_median_ms(ours):7.1f} ms")
        print(f"zeep deserialisation:           {_median_ms(zeep_objects):7.1f} ms")
        print(f"zeep + serialize_object:        {_median_ms(lambda: serialize_object(zeep_objects(), dict)):7.1f} ms")
        print(f"whole call over HTTP:           {_median_ms(lambda: client.call('getProducts', **request)):7.1f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
