"""Through HTTP: python app.py beside Gradio's floor (a no-op app) and the blog's serving path.

    python benchmarks/http_load.py [--requests 400] [--clients 8] [--rounds 8] [--client default|lean]
                                   [--servers NAME ...] [--busy-processes N]

Starts each server on a free loopback port, one after the other, and measures
its cold start (seconds from launch to the first answered /predict). Then,
with all of them up, drives /predict with gradio_client: one client, then N
concurrent clients, each level split into rounds that alternate between the
servers. Reports median and p99 latency, requests per second, the app's ratio
to the no-op app, dropped connections (retried once and counted), and each
server's resident memory after 10 and after --memory-requests requests.
Inputs are example drawings made by mnist_demo/examples.py (no dataset needed)."""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mnist_demo.examples import example_files  # noqa: E402

SERVERS = {
    "app.py": [sys.executable, "app.py", "--disable-training"],
    "no-op Gradio app": [sys.executable, "benchmarks/reference_app.py", "--mode", "noop"],
    "blog's serving path": [sys.executable, "benchmarks/reference_app.py", "--mode", "blog"],
}
EXTRA_SERVERS = {  # for diagnosis, with --servers
    "app.py --in-process": [*SERVERS["app.py"], "--in-process"],  # no worker process: the work holds Gradio's GIL
    "app.py, worker at nice 0": ["env", "MNIST_DEMO_WORKER_NICE=0", *SERVERS["app.py"]],
    # what any work costs under load on these cores: the no-op plus N ms of CPU outside the GIL
    **{f"no-op + {ms} ms GIL-free work": [sys.executable, "benchmarks/reference_app.py", "--mode", "busy",
                                          "--busy-ms", str(ms)] for ms in (1, 2, 4)},
    # Gradio's default: its /monitoring summary recomputed after every request (see mnist_demo.ui.queue_requests)
    **{f"{name}, Gradio's summary per request": ["env", "GRADIO_ANALYTICS_CACHE_FREQUENCY=1", *SERVERS[name]]
       for name in ("app.py", "no-op Gradio app")},
}


CLIENT_SETTINGS = {"default": {}, "lean": {"ssl_verify": False, "httpx_kwargs": {"trust_env": False}}}
client_settings: dict = CLIENT_SETTINGS["default"]


def new_client(url: str):
    """A gradio_client Client with the --client settings.

    default: gradio_client as anyone would use it. With ssl_verify on, httpx loads
    the CA bundle for each of its HTTP calls (about 4 per prediction), even on
    plain HTTP: ~90 ms of CPU per prediction, spent on the same 2 cores as the
    servers, so the load generator is the bottleneck.
    lean: verification off (nothing here speaks TLS) and no proxy lookup: ~8 ms a
    prediction, so the servers are the bottleneck and their own costs show.
    """
    from gradio_client import Client

    return Client(url, verbose=False, **client_settings)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (app.py's worker process), in MB."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(stat.parent.name) == pid or int(fields[1]) == pid:  # fields[1]: the parent's pid
                total += int(fields[21]) * os.sysconf("SC_PAGE_SIZE") / 2**20  # fields[21]: resident pages
        except (OSError, IndexError, ValueError):
            continue  # a process that ended meanwhile
    return total


class Server:
    def __init__(self, cmd: list[str], first_input: str, timeout: float = 180):
        from gradio_client import handle_file

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        start = time.perf_counter()
        self.proc = subprocess.Popen([*cmd, "--port", str(self.port)], cwd=ROOT,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while True:  # cold start: until the first /predict is answered
            if self.proc.poll() is not None:
                raise RuntimeError(f"{cmd} exited with {self.proc.returncode}")
            if time.perf_counter() - start > timeout:
                self.stop()
                raise RuntimeError(f"{cmd} did not answer in {timeout} s")
            try:
                client = new_client(self.url)
            except Exception:
                time.sleep(0.1)
                continue
            try:
                client.predict(handle_file(first_input), api_name="/predict")
                break
            except Exception:
                time.sleep(0.1)
            finally:
                client.close()
        self.cold_start = time.perf_counter() - start

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def drive(url: str, files: list[str], clients: int, total: int) -> dict:
    """`total` calls spread over `clients` threads, each with its own gradio_client."""
    import httpx
    from gradio_client import handle_file

    latencies: list[float] = []
    retries, failures = [0], []
    barrier = threading.Barrier(clients + 1)
    finished: list[float] = []

    def worker(w: int):
        client = new_client(url)
        barrier.wait()
        try:
            calls(client, w)
        finally:
            finished.append(time.perf_counter())
            client.close()  # its heartbeat stream would otherwise stay open through later rounds

    def calls(client, w: int):
        for i in range(w, total, clients):
            for attempt in (0, 1):
                t = time.perf_counter()
                try:
                    client.predict(handle_file(files[i % len(files)]), api_name="/predict")
                    latencies.append((time.perf_counter() - t) * 1e3)
                    break
                except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
                    if attempt:
                        failures.append(repr(exc))
                    else:
                        retries[0] += 1
                except Exception as exc:  # noqa: BLE001 - reported, not hidden
                    failures.append(repr(exc))
                    break

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    return {"clients": clients, "latencies": latencies, "wall_s": max(finished) - start,
            "retries": retries[0], "failures": failures}


def aggregate(parts: list[dict]) -> dict:
    latencies = sorted(x for p in parts for x in p["latencies"])
    wall = sum(p["wall_s"] for p in parts)
    return {
        "clients": parts[0]["clients"],
        "requests": len(latencies),
        "median_ms": statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else float("nan"),
        "rps": len(latencies) / wall if wall else float("nan"),
        "retries": sum(p["retries"] for p in parts),
        "failures": [f for p in parts for f in p["failures"]][:5],
        "rps_per_round": [round(len(p["latencies"]) / p["wall_s"], 2) for p in parts],
        "median_ms_per_round": [round(statistics.median(p["latencies"]), 1) if p["latencies"] else None for p in parts],
    }


def main(argv=None) -> dict:
    global client_settings
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="calls per load level and server")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=8,
                        help="the calls of each level are split into rounds that alternate between the servers")
    parser.add_argument("--client", choices=list(CLIENT_SETTINGS), default="default",
                        help="gradio_client settings (see new_client)")
    parser.add_argument("--memory-requests", type=int, default=1000)
    parser.add_argument("--busy-processes", type=int, default=0,
                        help="also time one client while this many busy-loop processes keep the CPUs busy")
    parser.add_argument("--servers", nargs="+", default=list(SERVERS), choices=[*SERVERS, *EXTRA_SERVERS])
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    client_settings = CLIENT_SETTINGS[args.client]

    files = [path for path, _ in example_files()]
    servers: dict[str, Server] = {}
    results: dict[str, dict] = {}
    try:
        for name in args.servers:  # one at a time, so each cold start has the machine to itself
            servers[name] = Server({**SERVERS, **EXTRA_SERVERS}[name], files[0])
            drive(servers[name].url, files, 1, 10)  # warm-up; also the first 10 requests for memory
            results[name] = {"cold_start_s": servers[name].cold_start,
                             "rss_mb_after_10": rss_mb(servers[name].proc.pid)}
        # All servers stay up; each level's calls are split into rounds that alternate
        # between them (in a rotating order), so a slow spell of the machine is shared
        # by all servers instead of landing on whichever ran at that moment.
        names = list(servers)
        parts: dict[tuple[str, int], list[dict]] = {}
        for clients in (1, args.clients):
            for k in range(args.rounds):
                share = args.requests // args.rounds + (k < args.requests % args.rounds)
                for name in names[k % len(names):] + names[:k % len(names)]:
                    parts.setdefault((name, clients), []).append(drive(servers[name].url, files, clients, share))
        for name, server in servers.items():
            r = results[name]
            r["one_client"] = aggregate(parts[(name, 1)])
            r["concurrent"] = aggregate(parts[(name, args.clients)])
            done = 10 + 2 * args.requests
            if args.memory_requests > done:
                drive(server.url, files, args.clients, args.memory_requests - done)
            r["rss_mb_after_memory_requests"] = rss_mb(server.proc.pid)
            r["memory_requests"] = max(done, args.memory_requests)
        if args.busy_processes:  # what one visitor sees while something else (a training, say) takes the CPUs
            hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy_processes)]
            try:
                for name, server in servers.items():
                    results[name]["busy_machine"] = aggregate([drive(server.url, files, 1, 40)])
            finally:
                for hog in hogs:
                    hog.kill()
    finally:
        for server in servers.values():
            server.stop()

    print(f"client: gradio_client, {args.client} settings; {args.requests} calls per level in {args.rounds} "
          f"alternating rounds")
    print(f"{'server':26} {'cold start':>10} | {'1 client: median':>16} {'p99':>8} {'req/s':>7} | "
          f"{args.clients} clients: median {'p99':>8} {'req/s':>7} | retries | RSS MB (10 -> N)")
    for name, r in results.items():
        a, b = r["one_client"], r["concurrent"]
        print(f"{name:26} {r['cold_start_s']:>9.1f}s | {a['median_ms']:>14.1f}ms {a['p99_ms']:>6.1f}ms {a['rps']:>7.1f} | "
              f"{b['median_ms']:>15.1f}ms {b['p99_ms']:>6.1f}ms {b['rps']:>7.1f} | "
              f"{a['retries'] + b['retries']:>7} | {r['rss_mb_after_10']:.0f} -> {r['rss_mb_after_memory_requests']:.0f} "
              f"after {r['memory_requests']}")
    if args.busy_processes:
        print(f"one client, {args.busy_processes} busy-loop processes beside: " + "; ".join(
            f"{name} median {r['busy_machine']['median_ms']:.1f} ms, p99 {r['busy_machine']['p99_ms']:.1f} ms"
            for name, r in results.items()))
    if "app.py" in results and "no-op Gradio app" in results:
        app, noop = results["app.py"], results["no-op Gradio app"]
        for level in ("one_client", "concurrent"):
            ratio = app[level]["rps"] / noop[level]["rps"]
            extra = app[level]["median_ms"] - noop[level]["median_ms"]
            print(f"app.py / no-op, {level.replace('_', ' ')}: throughput {ratio:.1%}, median latency {extra:+.1f} ms")
    if args.json:
        Path(args.json).write_text(json.dumps({"client": args.client, "rounds": args.rounds, **results}, indent=2) + "\n")
    failures = [f for r in results.values() for level in ("one_client", "concurrent") for f in r[level]["failures"]]
    if failures:
        print("failures:", failures)
    return results


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()
