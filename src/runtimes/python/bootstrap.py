"""Nimbus's Python bootstrap: the first code of every Python function process.

Standard library only. It boots with no user code, says `ready`, then waits on fd 3 (a
socketpair to the platform) for `init` (load the handler) and `invoke` frames, one at a time.
Frames: one JSON header line carrying `n`, then `n` raw body bytes. The same frames as
src/runtimes/protocol.ts; change both together. See docs/runtimes.md.
"""

import importlib
import io
import json
import logging
import os
import socket
import sys
import threading
import time
import traceback

_request_id = None
_fn = {}
_handler = None


class Channel:
    def __init__(self, fd):
        self._sock = socket.socket(fileno=fd)
        self._reader = self._sock.makefile("rb")
        # User threads may print while the main thread answers: frames must not interleave.
        self._lock = threading.Lock()

    def send(self, header, body=b""):
        header["n"] = len(body)
        data = json.dumps(header, separators=(",", ":")).encode() + b"\n" + body
        with self._lock:
            self._sock.sendall(data)

    def receive(self):
        line = self._reader.readline()
        if not line:
            return None, b""
        header = json.loads(line)
        size = header.get("n", 0)
        body = self._reader.read(size) if size else b""
        return header, body

    def log(self, kind, text):
        self.send({"t": "log", "k": kind, "ts": int(time.time() * 1000)}, text.encode("utf-8", "replace"))


class StreamCapture(io.TextIOBase):
    """sys.stdout / sys.stderr: whole lines go out as they complete, the rest on flush."""

    def __init__(self, channel, kind, fd):
        self._channel = channel
        self._kind = kind
        self._fd = fd
        self._pending = []

    @property
    def encoding(self):
        return "utf-8"

    def writable(self):
        return True

    def isatty(self):
        return False

    def fileno(self):
        return self._fd

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not %s" % type(text).__name__)
        if not text:
            return 0
        self._pending.append(text)
        if "\n" in text:
            joined = "".join(self._pending)
            cut = joined.rfind("\n") + 1
            self._pending = [joined[cut:]] if cut < len(joined) else []
            self._channel.log(self._kind, joined[:cut])
        return len(text)

    def flush(self):
        if self._pending:
            joined = "".join(self._pending)
            self._pending = []
            self._channel.log(self._kind, joined)


class LambdaFormatter(logging.Formatter):
    """Lambda's text format: [LEVEL]\\t<ISO time>Z\\t<request id>\\t<message>."""

    converter = time.gmtime

    def __init__(self):
        super().__init__("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s", "%Y-%m-%dT%H:%M:%S")

    def format(self, record):
        record.aws_request_id = _request_id
        return super().format(record)


class LambdaLogHandler(logging.Handler):
    def __init__(self, channel):
        super().__init__()
        self._channel = channel

    def emit(self, record):
        try:
            self._channel.log("line", self.format(record))
        except Exception:
            self.handleError(record)


class LambdaContext:
    def __init__(self, request_id, deadline_ms, client_context):
        self.aws_request_id = request_id
        self.function_name = _fn.get("name")
        self.function_version = _fn.get("version")
        self.invoked_function_arn = _fn.get("arn")
        self.memory_limit_in_mb = _fn.get("memory")
        self.log_group_name = _fn.get("logGroup")
        self.log_stream_name = _fn.get("logStream")
        self.identity = None
        self.client_context = client_context
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(int(self._deadline_ms - time.time() * 1000), 0)


class InitFailure(Exception):
    def __init__(self, error_type, message, stack=None):
        super().__init__(message)
        self.body = {"errorType": error_type, "errorMessage": message, "stackTrace": stack or []}


def error_body(exc):
    # The user's frames only: not this bootstrap's, not importlib's.
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if frame.filename != __file__ and not frame.filename.startswith("<frozen ")
    ]
    return {
        "errorType": type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_list(frames),
    }


def load_handler(handler):
    if "." not in handler.rsplit("/", 1)[-1]:
        raise InitFailure("Runtime.MalformedHandlerName", "Bad handler '%s': expected <module>.<function>" % handler)
    module_name, function_name = handler.rsplit(".", 1)
    module_name = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InitFailure("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (module_name, exc)) from exc
    except SyntaxError as exc:
        raise InitFailure("Runtime.UserCodeSyntaxError", "Syntax error in module '%s': %s" % (module_name, exc)) from exc
    function = getattr(module, function_name, None)
    if function is None:
        raise InitFailure("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (function_name, module_name))
    if not callable(function):
        raise InitFailure("Runtime.HandlerNotFound", "Handler '%s' on module '%s' is not callable" % (function_name, module_name))
    return function


def log_exception(channel, body):
    lines = ["[ERROR] %s: %s" % (body["errorType"], body["errorMessage"])]
    if body.get("stackTrace"):
        lines.append("Traceback (most recent call last):")
        lines.extend(frame.rstrip("\n") for frame in body["stackTrace"])
    channel.log("line", "\n".join(lines))


def become_user(run_as):
    # Drops root for good before any user code loads: no supplementary groups, the group, then
    # the user (real, effective and saved). Anything short of that ends the process.
    try:
        os.setgroups([])
        os.setgid(run_as["gid"])
        os.setuid(run_as["uid"])
    except OSError as exc:
        sys.stderr.write("nimbus bootstrap: cannot run as uid %s: %s\n" % (run_as["uid"], exc))
    if os.getresuid() != (run_as["uid"],) * 3:
        os._exit(70)


class BotocoreEndpoints:
    """Points boto3/botocore that predate endpoint variables at the platform.

    botocore reads AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> itself from 1.31 on; older
    ones (Debian's python3-boto3) would send the function's requests to AWS. When such a botocore
    is loaded, its Session.create_client gets the endpoint from those variables unless the code
    passes its own endpoint_url. Nothing is imported until the function imports botocore.
    """

    def find_spec(self, name, path, target=None):
        if name != "botocore.session":
            return None
        sys.meta_path.remove(self)
        import importlib.util

        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        real_exec = spec.loader.exec_module

        def exec_module(module):
            real_exec(module)
            patch_old_botocore(module)

        spec.loader.exec_module = exec_module
        return spec


def patch_old_botocore(session_module):
    import botocore

    try:
        version = tuple(int(part) for part in botocore.__version__.split(".")[:2])
    except ValueError:
        return
    if version >= (1, 31):
        return
    original = session_module.Session.create_client

    def create_client(self, service_name, *args, **kwargs):
        # endpoint_url is create_client's sixth parameter (after service_name).
        if len(args) < 5 and kwargs.get("endpoint_url") is None:
            variable = "AWS_ENDPOINT_URL_" + service_name.upper().replace("-", "_")
            endpoint = os.environ.get(variable) or os.environ.get("AWS_ENDPOINT_URL")
            if endpoint:
                kwargs["endpoint_url"] = endpoint
        return original(self, service_name, *args, **kwargs)

    session_module.Session.create_client = create_client


def init(channel, frame):
    global _fn, _handler
    if frame.get("runAs"):
        become_user(frame["runAs"])
    os.environ.clear()
    os.environ.update(frame["env"])
    if hasattr(time, "tzset"):
        time.tzset()
    _fn = frame["fn"]
    if os.environ.get("AWS_ENDPOINT_URL"):
        sys.meta_path.insert(0, BotocoreEndpoints())
    task_root = frame["taskRoot"]
    # sys.path[0] is this bootstrap's directory: the function's code takes its place.
    extra = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[0:1] = [task_root] + extra
    # Layers (docs/layers.md): PYTHONPATH names the declared runtime's site-packages; the
    # interpreter that really runs may be another 3.x, whose own directory is searched too.
    layers = os.environ.get("NIMBUS_LAYERS_ROOT")
    if layers:
        own = os.path.join(
            layers, "python", "lib", "python%d.%d" % sys.version_info[:2], "site-packages"
        )
        if own not in sys.path:
            sys.path.insert(1, own)
    try:
        os.chdir(task_root)
        _handler = load_handler(frame["handler"])
    except InitFailure as failure:
        log_exception(channel, failure.body)
        channel.send({"t": "initError", "error": failure.body})
        return
    except Exception as exc:
        body = error_body(exc)
        log_exception(channel, body)
        channel.send({"t": "initError", "error": body})
        return
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    channel.send({"t": "inited"})


def invoke(channel, frame, body):
    global _request_id
    request_id = frame["id"]
    _request_id = request_id
    # As Lambda: the X-Ray header of the current invocation, read by tracing SDKs.
    if frame.get("tr"):
        os.environ["_X_AMZN_TRACE_ID"] = frame["tr"]
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    client_context = None
    if frame.get("cc"):
        try:
            client_context = json.loads(frame["cc"])
        except ValueError:
            client_context = None
    try:
        event = json.loads(body) if body else None
        result = _handler(event, LambdaContext(request_id, frame["dl"], client_context))
    except Exception as exc:
        error = error_body(exc)
        sys.stdout.flush()
        sys.stderr.flush()
        log_exception(channel, error)
        channel.send({"t": "error", "id": request_id, "error": error})
        return
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        payload = json.dumps(result).encode()
    except (TypeError, ValueError) as exc:
        error = {"errorType": "Runtime.MarshalError", "errorMessage": "Unable to marshal response: %s" % exc, "stackTrace": []}
        log_exception(channel, error)
        channel.send({"t": "error", "id": request_id, "error": error})
        return
    channel.send({"t": "result", "id": request_id}, payload)


def main():
    channel = Channel(3)
    sys.stdout = StreamCapture(channel, "out", 1)
    sys.stderr = StreamCapture(channel, "err", 2)
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    handler = LambdaLogHandler(channel)
    handler.setFormatter(LambdaFormatter())
    root.addHandler(handler)
    channel.send({"t": "ready"})
    while True:
        header, body = channel.receive()
        if header is None:
            return
        kind = header.get("t")
        if kind == "invoke":
            invoke(channel, header, body)
        elif kind == "init":
            init(channel, header)


if __name__ == "__main__":
    main()
