"""The command line: python -m mnist_demo (or mnist-demo) train | predict | evaluate | hub | export-web."""

from __future__ import annotations

import argparse
import json
import sys


def _train(args) -> int:
    from .data import DataError
    from .train import train

    command = "python -m mnist_demo " + " ".join(sys.argv[1:])
    try:
        info = train(
            architecture=args.arch,
            epochs=args.epochs,
            batch_size=args.batch_size,
            data=args.data,
            subset=args.subset,
            test_subset=args.test_subset,
            out=args.out,
            logdir=args.logdir,
            seed=args.seed,
            command=command,
        )
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"{info['architecture']}: test accuracy {info['test_accuracy']:.4f}, loss {info['test_loss']:.4f}, "
        f"{info['training_seconds']:.0f} s; saved {args.out}/model.keras and model.json; "
        f"TensorBoard: tensorboard --logdir {args.logdir}"
    )
    return 0


def _chunks(items, n):
    for i in range(0, len(items), n):
        yield items[i:i + n]


def _predict(args) -> int:
    from .hub import HubError
    from .preprocess import ImageError
    from .recognizer import load

    try:
        recognizer = load(args.model)
    except (FileNotFoundError, ValueError, HubError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    failed = 0
    # In chunks: one model call per chunk, bounded memory for any count. A file that cannot be
    # read comes back as its ImageError, in its place.
    for chunk in _chunks(args.files, 256):
        for name, result in zip(chunk, recognizer.predict_many(chunk)):
            if isinstance(result, ImageError):
                failed += 1
                line = json.dumps({"file": name, "error": str(result)}) if args.json else f"{name}: error: {result}"
            elif args.json:
                line = json.dumps(
                    {"file": name, "label": result.label, "probabilities": [round(float(p), 6) for p in result.probabilities]}
                )
            else:
                line = f"{name}: {result.label} ({result.probabilities[result.label]:.1%})"
            print(line)
        sys.stdout.flush()
    if failed:
        print(f"{failed} of {len(args.files)} files could not be read", file=sys.stderr)
    return 1 if failed else 0


def _evaluate(args) -> int:
    from pathlib import Path

    from .data import DataError, load_mnist
    from .evaluate import evaluate, table
    from .recognizer import CHECKPOINT_DIR, load
    from .strokes import load_drawn

    try:
        served = load(args.model)
        baseline_path = args.baseline or CHECKPOINT_DIR / "seed" / "model.keras"
        baseline = None if args.no_baseline or not Path(baseline_path).is_file() else load(baseline_path)
        (_, _), mnist_test = load_mnist(args.data)
        drawn = load_drawn(args.drawn)
    except (DataError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if baseline is None and not args.no_baseline:
        print(f"note: no blog baseline at {baseline_path}; train one with "
              "`python -m mnist_demo train --arch seed --out checkpoints/seed`", file=sys.stderr)
    rows = evaluate(served, baseline, mnist_test, drawn, limit=args.limit, mnist_limit=args.mnist_limit,
                    out=Path(args.out) if args.out else None)
    print(table(rows))
    if args.out:
        print(f"\nconfusion matrix of the drawings: {args.out}/drawn-confusion.png")
    return 0


def _hub(args) -> int:
    from .hub import HubError, pull, push

    try:
        if args.action == "pull":
            print(pull(args.repo_id))
            return 0
        result = push(args.repo_id, model=args.model, private=args.private, dry_run=args.dry_run)
    except HubError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.dry_run:
        from pathlib import Path

        print(f"dry run: would upload to {args.repo_id} ({'private' if args.private else 'public'}):")
        for f in sorted(Path(result).iterdir()):
            print(f"  {f.name:16} {f.stat().st_size:>10,} bytes")
        print(f"folder: {result}")
    else:
        print(f"uploaded: {result}")
    return 0


def _export_web(args) -> int:
    from .web.export import ExportError, export

    try:
        out = export(args.outdir, model=args.model, tfjs=args.tfjs)
    except (ExportError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote the static site to {out}/ (serve it with: python -m http.server -d {out})")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="mnist-demo", description="Train, run and ship the MNIST digit demo.")
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model on MNIST and save it with its JSON and pictures")
    t.add_argument("--arch", choices=["default", "seed"], default="default", help="architecture (default: %(default)s)")
    t.add_argument("--epochs", type=int, help="epochs (default: the architecture's recipe: 20 default, 10 seed)")
    t.add_argument("--batch-size", type=int, help="batch size (default: 128 default, 32 seed)")
    t.add_argument("--data", help="local MNIST: a Keras-layout .npz or a folder of IDX files (or set MNIST_DEMO_DATA)")
    t.add_argument("--subset", type=int, help="train on this many random training samples")
    t.add_argument("--test-subset", type=int, help="evaluate on the first N test samples")
    t.add_argument("--out", default="runs/latest", help="output folder (default: %(default)s)")
    t.add_argument("--logdir", default="logs/fit", help="TensorBoard log root (default: %(default)s)")
    t.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    t.set_defaults(func=_train)

    p = sub.add_parser("predict", help="read digits from image files")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--model", help="model file or hf://OWNER/NAME (default: checkpoints/model.keras or MNIST_DEMO_MODEL)")
    p.set_defaults(func=_predict)

    e = sub.add_parser("evaluate", help="accuracy on MNIST and on drawn digits, beside the blog's pipeline")
    e.add_argument("--model", help="model to evaluate (default: the served checkpoint)")
    e.add_argument("--baseline", help="the blog's model (default: checkpoints/seed/model.keras)")
    e.add_argument("--no-baseline", action="store_true", help="skip the blog's pipeline")
    e.add_argument("--data", help="local MNIST (or set MNIST_DEMO_DATA)")
    e.add_argument("--drawn", help="stroke file of drawn digits (or set MNIST_DEMO_DRAWN)")
    e.add_argument("--limit", type=int, help="drawings per digit (default: all)")
    e.add_argument("--mnist-limit", type=int, help="MNIST test digits (default: all 10,000)")
    e.add_argument("--out", help="folder for the drawings' confusion matrix and a JSON of the table")
    e.set_defaults(func=_evaluate)

    h = sub.add_parser("hub", help="push the served model to the Hugging Face Hub, or pull one into the cache")
    h.add_argument("action", choices=["push", "pull"])
    h.add_argument("repo_id", help="OWNER/NAME (or hf://OWNER/NAME)")
    h.add_argument("--model", help="model to push (default: the served checkpoint)")
    h.add_argument("--private", action="store_true", help="create the repository private")
    h.add_argument("--dry-run", action="store_true", help="build the upload folder and list it; upload nothing")
    h.set_defaults(func=_hub)

    w = sub.add_parser("export-web", help="write the static TensorFlow.js page (no server needed)")
    w.add_argument("outdir")
    w.add_argument("--model", help="model to export (default: the served checkpoint)")
    w.add_argument("--tfjs", help="tf.min.js to copy (default: node_modules/@tensorflow/tfjs/dist/tf.min.js)")
    w.set_defaults(func=_export_web)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
