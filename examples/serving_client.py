"""Build (and optionally send) TF Serving REST requests for every tfnf signature.

    python examples/serving_client.py --model-name digits_glow --event-shape 8 8 1
        prints the request bodies; no server needed.
    python examples/serving_client.py --model-name digits_glow --event-shape 8 8 1 --url http://localhost:8501
        also POSTs each body to <url>/v1/models/<name>:predict and prints the answers.

Serve the export first (see the README's "Serving" section), e.g.
    docker run -p 8501:8501 -v "$PWD/runs/digits-glow/saved_models/digits_glow:/models/digits_glow" \
        -e MODEL_NAME=digits_glow tensorflow/serving
Only the Python standard library is used.
"""

import argparse
import json
import urllib.request


def zeros(shape):
    """A nested list of zeros with `shape`."""
    if not shape:
        return 0.0
    return [zeros(shape[1:]) for _ in range(shape[0])]


def request_bodies(event_shape, batch=2, num_samples=4, temperature=0.7, seed=(1, 2)):
    """One `:predict` body per signature, in TF Serving's columnar ("inputs") format.

    The columnar format is used throughout because the `sample` signatures take
    scalars (`num_samples`, `temperature`) that have no batch dimension, which
    the row ("instances") format cannot express.
    """
    x = zeros([batch, *event_shape])
    return {
        "log_prob": {"signature_name": "log_prob", "inputs": {"x": x}},
        "serving_default": {"inputs": {"x": x}},
        "sample": {"signature_name": "sample", "inputs": {"num_samples": num_samples, "temperature": temperature}},
        "sample_seeded": {
            "signature_name": "sample_seeded",
            "inputs": {"num_samples": num_samples, "temperature": temperature, "seed": list(seed)},
        },
        "encode": {"signature_name": "encode", "inputs": {"x": x}},
        "decode": {"signature_name": "decode", "inputs": {"z": x}},
    }


def post(url, model_name, body):
    request = urllib.request.Request(
        f"{url.rstrip('/')}/v1/models/{model_name}:predict",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-name", default="digits_glow")
    parser.add_argument("--event-shape", type=int, nargs="+", default=[8, 8, 1])
    parser.add_argument("--url", help="TF Serving REST address; without it the bodies are only printed")
    args = parser.parse_args()
    for name, body in request_bodies(args.event_shape).items():
        print(f"POST /v1/models/{args.model_name}:predict   # {name}")
        print(json.dumps(body))
        if args.url:
            answer = post(args.url, args.model_name, body)
            print("->", json.dumps(answer)[:300])
        print()
    if not args.url:
        print("(bodies only: pass --url http://localhost:8501 to send them to a running model server)")


if __name__ == "__main__":
    main()
