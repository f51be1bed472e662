"""One learner kernel, driven message by message, with every fault turned into a result.

``LearnerKernel.execute`` never raises for what the learner's code does: it returns an
``Execution`` whose ``fault`` is "" (the kernel replied), "timeout" (no reply by the
deadline, even after an interrupt), "dead" (the process ended) or "flood" (it sent
more output than the cap). Output kept per request is capped, and the client's
sockets refuse single messages above ``max_message_bytes`` (one huge output line
cannot grow the grader's memory).
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import inspect
import re
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty

import zmq
from jupyter_client.blocking.client import BlockingKernelClient
from nbformat.notebooknode import NotebookNode, from_dict

from .. import codec

KERNEL_SIDE = (Path(codec.__file__).read_text(encoding="utf-8") + "\n"
               + (Path(__file__).parent / "_kernel_side.py").read_text(encoding="utf-8"))
BOOTSTRAP = (
    "def _clientcare_boot(source, comm_id):\n"
    "    import types\n"
    "    module = types.ModuleType('_clientcare_boundary')\n"
    "    exec(compile(source, '<clientcare boundary>', 'exec'), module.__dict__)\n"
    "    module.install(get_ipython(), comm_id)\n"
    "_clientcare_boot({source!r}, {comm_id!r})\n"
    "del _clientcare_boot\n"
)
REPLY = re.compile(r"[A-Za-z0-9+/=]*")
KERNEL_SIDE_DIGEST = hashlib.sha256(KERNEL_SIDE.encode("utf-8")).hexdigest()
RECONNECT_MS = 10  # how soon the client tries again to reach a kernel that was not listening yet


class KernelFault(BaseException):
    """The kernel did not answer a call (stuck, dead or flooding). A BaseException: tests cannot catch it."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


@dataclass
class Execution:
    status: str = ""                 # "ok" / "error" from the kernel's reply, "" if it never replied
    fault: str = ""                  # "", "timeout", "dead", "flood"
    outputs: list = field(default_factory=list)
    reply: dict = field(default_factory=dict)
    execution_count: int | None = None
    received_bytes: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    recovered: bool = False          # a timeout the kernel came back from (after an interrupt)


class LearnerKernel:
    def __init__(self, manager_class, kernel_name: str, cwd: str, env: dict, extra_arguments: list,
                 startup_timeout: float, interrupt_grace: float, max_output_bytes: int, flood_bytes: int,
                 max_message_bytes: int, log, config=None):
        self.config = config  # the grader's configuration: the kernel manager's own settings (the sandbox's)
        self.manager_class, self.kernel_name, self.cwd, self.env = manager_class, kernel_name, cwd, env
        self.extra_arguments, self.startup_timeout = extra_arguments, startup_timeout
        self.interrupt_grace, self.max_output_bytes, self.flood_bytes = interrupt_grace, max_output_bytes, flood_bytes
        self.max_message_bytes, self.log = max_message_bytes, log
        self.km = self.kc = self.context = None
        self.usable = False  # False after a fault the kernel did not recover from: replace it
        self.reinstalled = 0  # times the helper had to be installed again
        self.broken = False   # installing it again did not help (learner code broke what it relies on)
        self.busy = 0.0       # seconds spent waiting for this kernel, every request together
        self.set_up = 0.0     # seconds of starting it that went to the grader's own set-up (a new warm sandbox)
        self.loop = None     # for kernel managers whose methods are coroutines (AsyncKernelManager)
        self.comm_id = ""    # the comm the helper takes requests on (a new one each time it is installed)

    def _sync(self, value):
        """The result of a kernel manager call, whether the manager is synchronous or asynchronous."""
        if inspect.isawaitable(value):
            if self.loop is None:
                self.loop = asyncio.new_event_loop()
            return self.loop.run_until_complete(value)
        return value

    # -- life cycle

    def start(self, attempts: int = 3) -> None:
        for attempt in range(1, attempts + 1):
            try:
                self._start_once()
                return
            except Exception as error:  # a kernel that dies while starting, before any learner code
                self.shutdown()
                if attempt == attempts:
                    raise RuntimeError(f"the grading kernel could not be started ({error})") from error
                self.log.warning("[clientcare] the grading kernel died while starting (attempt %d); "
                                 "starting another", attempt)

    def _start_once(self) -> None:
        self.km = self.manager_class(kernel_name=self.kernel_name, **({"config": self.config} if self.config else {}))
        # The kernel's own stdin, stdout and stderr lead nowhere: learner code writing to file descriptors 1
        # and 2 never reaches the grader's terminal or log (its output comes only as kernel messages).
        self._sync(self.km.start_kernel(extra_arguments=list(self.extra_arguments), cwd=self.cwd, env=dict(self.env),
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL))
        self.set_up += getattr(self.km, "sandbox_seconds", 0.0)
        self.context = zmq.Context()
        self.context.setsockopt(zmq.MAXMSGSIZE, self.max_message_bytes)
        # The client connects before the kernel listens; ZeroMQ tries again after RECONNECT_IVL (100 ms by
        # default), which was most of a warm kernel's start. Every 10 ms at first, backing off to a second.
        self.context.setsockopt(zmq.RECONNECT_IVL, RECONNECT_MS)
        self.context.setsockopt(zmq.RECONNECT_IVL_MAX, 1000)
        # A blocking client on the manager's connection, whatever kind of manager started the kernel.
        self.kc = BlockingKernelClient(context=self.context, parent=self.km)
        self.kc.load_connection_info(self.km.get_connection_info(session=False))
        self.kc.start_channels()
        self._wait_for_ready(self.startup_timeout)
        boot = self.boot(time.monotonic() + self.startup_timeout, first=True)
        self.usable = boot.status == "ok"
        if boot.status != "ok":
            raise RuntimeError(f"the grader's helper did not start in the kernel ({boot.fault or boot.reply})")

    def _wait_for_ready(self, timeout: float) -> None:
        """Until the kernel answers ``kernel_info`` with its IOPub channel connected.

        As jupyter_client's ``wait_for_ready``, without its last step, which waits until IOPub has been
        quiet for 0.2 s (0.2 s of every learner's kernel start): every output here is matched to the
        request it answers, so the start's own status messages may stay unread.
        """
        deadline = time.monotonic() + timeout
        while True:
            self.kc.kernel_info()
            try:
                reply = self.kc.shell_channel.get_msg(timeout=1)
            except Empty:
                reply = None
            if reply is not None and reply.get("msg_type") == "kernel_info_reply":
                try:
                    self.kc.iopub_channel.get_msg(timeout=0.2)  # IOPub is connected once it delivers
                    return
                except Empty:
                    pass
            if not self.alive():
                raise RuntimeError("the kernel died before answering kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the kernel did not answer in {timeout:g} s")

    def boot(self, deadline: float, first: bool = False) -> "Execution":
        """Install the grader's helper in the kernel (again, if learner code removed or broke it).

        The first time, before any learner code has run, a kernel manager that offers ``helper_boot`` (a warm
        sandbox's, whose zygote compiled the helper before it forked) gives a short cell that installs it; if
        that does not answer "ok", and every time after the first, the kernel is sent the helper's source.
        """
        self.comm_id = uuid.uuid4().hex
        offer = getattr(self.km, "helper_boot", None) if first else None
        cell = offer(self.comm_id, KERNEL_SIDE_DIGEST) if callable(offer) else None
        if cell:
            run = self.execute(cell, deadline, silent=True, store_history=False, keep_outputs=False)
            if run.status == "ok" or run.fault:
                return run
        return self.execute(BOOTSTRAP.format(source=KERNEL_SIDE, comm_id=self.comm_id), deadline, silent=True,
                            store_history=False, keep_outputs=False)

    def alive(self) -> bool:
        try:
            return bool(self.km is not None and self._sync(self.km.is_alive()))
        except Exception:
            return False

    def shutdown(self) -> None:
        """Stop the kernel and everything it started; never raises."""
        if self.kc is not None:
            try:
                self.kc.stop_channels()
            except Exception:
                pass
        if self.km is not None:
            try:
                if self.km.has_kernel:
                    self._sync(self.km.shutdown_kernel(now=True))
            except Exception:
                pass
            try:
                self._sync(self.km.cleanup_resources())
            except Exception:
                pass
        if self.context is not None:
            try:
                self.context.destroy(linger=0)
            except Exception:
                pass
        if self.loop is not None:
            self.loop.close()
        self.km = self.kc = self.context = self.loop = None

    # -- running code

    def execute(self, code: str, deadline: float, silent: bool = False, store_history: bool = True,
                user_expressions: dict | None = None, keep_outputs: bool = True) -> Execution:
        if not self.alive():
            return Execution(fault="dead")
        msg_id = self.kc.execute(code, silent=silent, store_history=store_history,
                                 user_expressions=user_expressions or {}, allow_stdin=False, stop_on_error=False)
        return self._wait(msg_id, deadline, keep_outputs)

    def request(self, method: str, argument: str | None, deadline: float) -> Execution:
        """Send the helper one request as a comm message; its reply (``{"reply": ...}``) is in ``reply``."""
        if not self.alive():
            return Execution(fault="dead")
        message = self.kc.session.msg("comm_msg", {"comm_id": self.comm_id,
                                                   "data": {"method": method, "argument": argument}})
        self.kc.shell_channel.send(message)
        return self._wait(message["header"]["msg_id"], deadline, keep_outputs=False, comm=True)

    def _wait(self, msg_id: str, deadline: float, keep_outputs: bool, comm: bool = False) -> Execution:
        """Until the kernel has answered request ``msg_id`` and gone idle; every fault becomes the result's.

        An execute request is answered on the shell channel; a comm request (``comm``) by a comm message on
        IOPub from the helper's comm, or by nothing if the helper is gone: going idle then ends the wait.
        """
        result = Execution()
        started = time.monotonic()
        idle = replied = False
        kept = 0
        next_alive_check = time.monotonic() + 0.25
        busy = getattr(self.km, "still_busy", None)  # a sandbox lowers the priority of a kernel kept busy long
        grace_until = None  # after the reply: wait a moment for the last outputs
        while True:
            now = time.monotonic()
            if ((replied or comm) and idle) or (replied and now >= grace_until):
                break
            if not replied and now >= deadline:
                if result.interrupted:
                    result.fault = "timeout"
                    break
                result.interrupted = True
                self.interrupt()
                deadline = now + self.interrupt_grace
            if now >= next_alive_check:
                next_alive_check = now + 0.25
                if not self.alive():
                    result.fault = "dead"
                    break
                if not replied and busy is not None:
                    busy(now - started, msg_id)
            wait = min(deadline if not replied else grace_until, next_alive_check) - now
            events = dict(self._poll(max(0.0, wait)))
            if self.kc.shell_channel.socket in events:
                message = self._read(self.kc.shell_channel)
                if not comm and message and message.get("parent_header", {}).get("msg_id") == msg_id:
                    replied = True
                    grace_until = time.monotonic() + 0.5
                    result.reply = message.get("content", {})
                    result.status = result.reply.get("status", "")
                    result.execution_count = result.reply.get("execution_count")
            if self.kc.iopub_channel.socket in events:
                for message in self._drain(self.kc.iopub_channel):
                    if message.get("parent_header", {}).get("msg_id") != msg_id:
                        continue
                    kind, content = message.get("msg_type"), message.get("content", {})
                    if kind == "status":
                        idle = idle or content.get("execution_state") == "idle"
                    elif comm and kind == "comm_msg" and content.get("comm_id") == self.comm_id and not replied:
                        replied = True  # the helper's answer (not output: it counts towards no flood)
                        grace_until = time.monotonic() + 0.5
                        result.reply = content.get("data") if isinstance(content.get("data"), dict) else {}
                        result.status = "ok"
                    else:
                        result.received_bytes += len(repr(content))
                        if keep_outputs and kind in ("stream", "display_data", "execute_result", "error",
                                                     "clear_output"):
                            kept = self._keep(result.outputs, kind, content, kept)
            if result.received_bytes > self.flood_bytes and not replied:
                result.fault = "flood"
                self.interrupt()
                break
        if result.interrupted and not result.fault:
            result.fault, result.recovered = "timeout", True
        result.seconds = time.monotonic() - started
        self.busy += result.seconds
        return result

    def _poll(self, seconds: float):
        poller = zmq.Poller()
        poller.register(self.kc.shell_channel.socket, zmq.POLLIN)
        poller.register(self.kc.iopub_channel.socket, zmq.POLLIN)
        return poller.poll(int(seconds * 1000))

    def _read(self, channel):
        try:
            return channel.get_msg(timeout=0)
        except Exception:
            return None

    def _drain(self, channel, most: int = 500):
        for _ in range(most):
            if not channel.msg_ready():
                return
            message = self._read(channel)
            if message is None:
                return
            yield message

    def _keep(self, outputs: list, kind: str, content: dict, kept: int) -> int:
        if kind == "clear_output":
            outputs.clear()
            return 0
        if kept >= self.max_output_bytes:
            if not outputs or outputs[-1].get("text", "") != "\n[more output was not kept]\n":
                outputs.append(from_dict({"output_type": "stream", "name": "stdout",
                                          "text": "\n[more output was not kept]\n"}))
            return kept
        if kind == "stream":
            text = str(content.get("text", ""))[: self.max_output_bytes - kept]
            name = "stderr" if content.get("name") == "stderr" else "stdout"
            if outputs and outputs[-1].get("output_type") == "stream" and outputs[-1].get("name") == name:
                outputs[-1]["text"] += text
            else:
                outputs.append(from_dict({"output_type": "stream", "name": name, "text": text}))
            return kept + len(text)
        if kind == "error":
            output = {"output_type": "error", "ename": str(content.get("ename", ""))[:200],
                      "evalue": str(content.get("evalue", ""))[:2000],
                      "traceback": [str(line)[:2000] for line in content.get("traceback", [])[:50]]}
        else:
            data = content.get("data", {}) if isinstance(content.get("data"), dict) else {}
            output = {"output_type": kind, "data": data, "metadata": {}}
            if kind == "execute_result":
                output["execution_count"] = content.get("execution_count")
        node = from_dict(output)
        outputs.append(node)
        return kept + len(repr(output))

    def interrupt(self) -> None:
        try:
            self._sync(self.km.interrupt_kernel())
        except Exception:
            pass

    # -- calls into the helper

    def ask(self, method: str, payload, deadline: float, expect=None) -> tuple[Execution, object]:
        """Run ``__clientcare__.<method>(payload)`` and decode its plain-data reply (raises KernelFault).

        The reply is data from an untrusted process: anything that is not a readable plain-data
        encoding comes back as a ``codec.BadData`` value. If the helper itself is gone or broken
        (``%reset -f``, ``del __clientcare__``, a replaced method), it is installed again and the
        call made once more. ``expect``: a check of the answer's shape; an answer that fails it is
        not the helper's either. ``payload``: text, None, or a function giving the text (called for each
        attempt: what it sends may depend on the helper it goes to).
        """
        for attempt in (1, 2):
            text = payload() if callable(payload) else payload
            argument = None if text is None else base64.b64encode(text.encode("utf-8")).decode("ascii")
            # the helper empties its reply first: a method that answers nothing (replaced by a no-op) leaves no
            # earlier answer
            run = self.request(method, argument, deadline)
            if run.fault:
                self.usable = run.recovered
                raise KernelFault(run.fault, {"timeout": "ran past its time limit", "dead": "stopped the kernel",
                                              "flood": "printed too much output"}[run.fault])
            started = time.monotonic()
            answer = self._answer(run)
            # Reading the reply is the submission's cost too: a reply made in no time can take long to read.
            self.busy += time.monotonic() - started
            if not isinstance(answer, (dict, codec.BadData)):
                # every answer of the helper is a dict: anything else comes from a helper learner code changed
                answer = codec.BadData(f"the kernel answered with a {type(answer).__name__}, not the helper's answer")
            elif expect is not None and isinstance(answer, dict) and not expect(answer):
                answer = codec.BadData(f"the kernel's answer to {method} is not the helper's")
            if not isinstance(answer, codec.BadData) or self.broken:
                return run, answer
            if attempt == 2:
                self.broken = True  # from now on a bad reply fails at once
                return run, answer
            self.reinstalled += 1
            boot = self.boot(deadline)
            if boot.fault:
                self.usable = boot.recovered
                raise KernelFault(boot.fault, "the grader's helper could not be installed again")
        return run, answer

    @staticmethod
    def _answer(run: "Execution"):
        text = run.reply.get("reply", "") if isinstance(run.reply, dict) else ""
        readable = isinstance(text, str) and len(text) <= 4 * codec.MAX_BYTES // 3 + 8 and REPLY.fullmatch(text)
        if run.status != "ok" or not readable:
            return codec.BadData("the kernel's answer could not be read")
        try:
            return codec.decode(base64.b64decode(text).decode("utf-8"))
        except (codec.BadData, ValueError, UnicodeDecodeError) as error:
            return codec.BadData(f"the kernel's answer could not be read ({str(error)[:200]})")


def new_output(**fields) -> NotebookNode:
    return from_dict(fields)
