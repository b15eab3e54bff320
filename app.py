"""Draw a digit, get it read. Run: python app.py [--host H] [--port P] [--share] [--model PATH] [--enable-training] [--in-process]"""

from mnist_demo.ui import build_demo, launch_kwargs, parse_args

args = parse_args()
demo = build_demo(model=args.model, training=args.training, worker=args.worker)

if __name__ == "__main__":
    demo.launch(**launch_kwargs(args))
