"""Nimbus Python runtime: runs `module.function(event, context)` like Lambda's Python runtime.

Spawned by the agent inside the sandbox. Requests arrive as JSON lines on stdin; replies go as
JSON lines on fd 3. print() output goes to stdout (unbuffered: the agent starts us with -u).
"""
import importlib
import json
import logging
import os
import sys
import time
import traceback

_out = os.fdopen(3, "w", buffering=1)
_request_id = ""


def _send(msg):
    _out.write(json.dumps(msg) + "\n")
    _out.flush()


def _set_trace_id(value):
    """The invocation's trace id in os.environ without putenv(3): glibc keeps every string
    setenv is given, so a new value per invocation would grow the process without bound
    (137 MB per million invocations, measured; see trace-env.ts). Python code sees it
    (os.environ, os.getenv); native getenv(3) and children started with env=None do not."""
    key = os.environ.encodekey("_X_AMZN_TRACE_ID")
    if value:
        os.environ._data[key] = os.environ.encodevalue(value)
    else:
        os.environ._data.pop(key, None)


class LambdaContext:
    def __init__(self, msg):
        env = os.environ
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = msg.get("invokedFunctionArn")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.aws_request_id = msg.get("requestId")
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = None
        self.client_context = None
        self._deadline_ms = int(time.time() * 1000) + int(msg.get("remainingMs", 0))

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline_ms - int(time.time() * 1000))


class _LambdaFormatter(logging.Formatter):
    def format(self, record):
        t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        t += ".%03dZ" % int(record.msecs)
        return "[%s]\t%s\t%s\t%s" % (record.levelname, t, _request_id, record.getMessage())


def _setup_logging():
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(_LambdaFormatter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.WARNING)


def _error(exc, request_id=""):
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(traceback.extract_tb(exc.__traceback__)[1:]),
    }


def _load(handler):
    module_name, _, fn_name = handler.rpartition(".")
    if not module_name:
        raise _InitError("Runtime.MalformedHandlerName", "Bad handler '%s': not enough values to unpack (expected 2, got 1)" % handler)
    module_name = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise _InitError("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (module_name, e))
    except SyntaxError as e:
        raise _InitError("Runtime.UserCodeSyntaxError", "Syntax error in module '%s': %s" % (module_name, e))
    fn = getattr(module, fn_name, None)
    if fn is None:
        raise _InitError("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (fn_name, module_name))
    return fn


class _InitError(Exception):
    def __init__(self, error_type, message):
        super().__init__(message)
        self.error_type = error_type


def main():
    global _request_id
    _setup_logging()
    init = json.loads(sys.stdin.readline())
    sys.path.insert(0, init["taskRoot"])
    try:
        fn = _load(init["handler"])
    except _InitError as e:
        print("[ERROR] %s: %s" % (e.error_type, e), flush=True)
        _send({"t": "init-error", "payload": json.dumps(
            {"errorMessage": str(e), "errorType": e.error_type, "requestId": "", "stackTrace": []})})
        return
    except Exception as e:  # noqa: BLE001 - any exception at import time is an init error
        err = _error(e)
        print("[ERROR] %s: %s" % (err["errorType"], err["errorMessage"]), flush=True)
        _send({"t": "init-error", "payload": json.dumps(err)})
        return
    _send({"t": "ready"})
    for line in sys.stdin:
        msg = json.loads(line)
        _request_id = msg["requestId"]
        _set_trace_id(msg.get("traceId"))
        try:
            event = json.loads(msg.get("payload") or "null")
            result = fn(event, LambdaContext(msg))
            _send({"t": "result", "ok": True, "payload": json.dumps(result)})
        except Exception as e:  # noqa: BLE001 - the handler's error is the function's error
            err = _error(e, _request_id)
            print("[ERROR] %s: %s" % (err["errorType"], err["errorMessage"]), flush=True)
            _send({"t": "result", "ok": False, "payload": json.dumps(err)})


if __name__ == "__main__":
    main()
