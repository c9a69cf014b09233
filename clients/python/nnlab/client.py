"""``nnlab.Client``: every endpoint of the daemon, arrays in and out as NumPy ``.npy``."""
from __future__ import annotations

import http.client
import json
import os
import urllib.parse
from typing import Any, Dict, Iterator, Literal, Optional, Union, overload

import numpy as np

from .errors import Error
from .tensors import ImageLike, decode, encode, image_fields

DEFAULT_URL = "http://127.0.0.1:8080"
CHECK_OPS = ("conv", "pool", "mlp")
RUN_MODELS = ("rnn", "lstm", "gru")
TRAIN_MODELS = ("rnn", "lstm", "gru", "cnn")


class Client:
    """A connection to an nnlab daemon.

    ``Client()`` talks to ``$NNLAB_URL`` (default ``http://127.0.0.1:8080``). Each method sends
    its keyword arguments as the request's JSON fields (``np.ndarray`` values as ``.npy``) with
    ``output_format="npy"``, and returns the answer as a dict whose tensors are ``np.ndarray``
    (float32; float64 for training weights). Failures raise :class:`nnlab.Error`.

    Args:
        url: the daemon's base URL, e.g. ``"http://127.0.0.1:8080"``.
        timeout: seconds to wait for the daemon on each request (a training stream waits this
            long between two lines).
    """

    def __init__(self, url: Optional[str] = None, timeout: float = 300.0) -> None:
        self.url = (url or os.environ.get("NNLAB_URL") or DEFAULT_URL).rstrip("/")
        parts = urllib.parse.urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {self.url!r}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self._conn: Optional[http.client.HTTPConnection] = None

    def __repr__(self) -> str:
        return f"nnlab.Client({self.url!r})"

    # ---- transport -------------------------------------------------------------------------

    def _connect(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        return cls(self._host, self._port, timeout=self.timeout)

    def _unreachable(self, e: BaseException) -> Error:
        return Error(0, "connection_error",
                     f"cannot reach nnlabd at {self.url}: {e} (is the daemon running? "
                     "start it with `make run`, or set NNLAB_URL)")

    def _send(self, conn: http.client.HTTPConnection, method: str, path: str,
              body: Optional[bytes]) -> http.client.HTTPResponse:
        headers = {"Accept": "application/json, application/x-ndjson"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            conn.request(method, self._prefix + path, body=body, headers=headers)
        except (BrokenPipeError, ConnectionResetError) as e:
            # The daemon may have answered before the whole body was sent (413: over its
            # --max-body) and closed: its answer is then waiting on the socket, and is what to
            # report. Without one, the send error stands (a closed kept-alive connection).
            try:
                return conn.getresponse()
            except (OSError, http.client.HTTPException):
                raise e from None
        return conn.getresponse()

    def _request(self, method: str, path: str, fields: Optional[Dict[str, Any]] = None) -> Any:
        """One request on the kept-alive connection (reopened once if the daemon closed it)."""
        body = None if fields is None else json.dumps(fields, allow_nan=False).encode("utf-8")
        for attempt in (0, 1):
            if self._conn is None:
                self._conn = self._connect()
            try:
                resp = self._send(self._conn, method, path, body)
                data = resp.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError,
                    http.client.CannotSendRequest, http.client.ResponseNotReady) as e:
                self.close()
                if attempt:
                    raise self._unreachable(e) from None
            except (OSError, http.client.HTTPException) as e:
                self.close()
                raise self._unreachable(e) from None
        if resp.status >= 300:
            raise Error.from_body(resp.status, data)
        ctype = resp.getheader("Content-Type", "")
        if "json" not in ctype:
            return data.decode("utf-8")
        return decode(json.loads(data.decode("utf-8")))

    def _post(self, path: str, fields: Dict[str, Any]) -> Dict[str, Any]:
        fields = encode(fields)
        fields.setdefault("output_format", "npy")
        return self._request("POST", path, fields)

    def close(self) -> None:
        """Close the kept-alive connection (a later request opens a new one)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ---- endpoints -------------------------------------------------------------------------

    def health(self) -> Dict[str, Any]:
        """``GET /healthz``: ``{"status": "ok", "version": ...}``."""
        return self._request("GET", "/healthz")

    @staticmethod
    def _with_image(image: Optional[ImageLike], fields: Dict[str, Any]) -> Dict[str, Any]:
        """fields plus the image argument as "image" (a file) or "input" (a float array)."""
        out = dict(fields)
        if image is not None:
            if "input" in out:
                raise TypeError("give the image once: as the first argument or as input=")
            key, value = image_fields(image)
            out[key] = value
        return out

    def conv(self, image: Optional[ImageLike] = None, **fields: Any) -> Dict[str, Any]:
        """``POST /conv``: one convolution or a convolution layer.

        Args:
            image: a path, PNG/JPEG bytes, a uint8 array (as a PNG) or a float array [H, W, C]
                (the ``input`` tensor); or give ``input=`` / ``image=`` in ``fields``.
            **fields: the request's fields: ``kernel`` (array [KH, KW, C] or [KH, KW], or a
                preset name), ``kernels`` ([N, KH, KW, C]) or ``filters`` (``{"count", "size",
                "init", "seed"}``; ``init="numpy_randn"`` draws NumPy's own kernels), ``bias``,
                ``stride``, ``padding``, ``activation``, ``grayscale``, ``resize``, ``render``,
                ``grad_output``, ``seed``.

        Returns:
            ``{"output": [OH, OW, N], "kernels": [N, KH, KW, C], "bias": [N], "input_shape",
            "flops", "elapsed_ms", ...}`` with arrays as ``np.ndarray``; with ``grad_output``
            ([OH, OW, N], the loss's gradient after the activation) also ``"grad_input"``
            [H, W, C], ``"grad_kernels"`` [N, KH, KW, C] and ``"grad_bias"`` [N].
        """
        return self._post("/conv", self._with_image(image, fields))

    def pool(self, x: Optional[ImageLike] = None, **fields: Any) -> Dict[str, Any]:
        """``POST /pool``: max or average pooling.

        Args:
            x: the input volume [H, W, C] or [H, W] (an array, sent with its values as they
                are), or an image file (path or bytes); or give ``input=``.
            **fields: ``function`` (``"max"`` | ``"average"``), ``size`` (int, [h, w] or
                ``"global"``), ``stride``, ``render``, ``grad_output``.

        Returns:
            ``{"output": [OH, OW, C] (or [C] for global pooling), "input_shape", ...}``; with
            ``grad_output`` (shaped like ``output``) also ``"grad_input"`` [H, W, C].
        """
        out = dict(fields)
        if isinstance(x, np.ndarray):
            out["input"] = x  # values as they are (a uint8 array stays 0..255)
        elif x is not None:
            out = self._with_image(x, fields)
        return self._post("/pool", out)

    def mlp(self, x: Any = None, **fields: Any) -> Dict[str, Any]:
        """``POST /mlp``: a multi-layer perceptron's forward pass.

        Args:
            x: the input vector (any array is flattened), or give ``input=``.
            **fields: ``hidden_layers``, ``hidden_size``, ``activation``, ``output_size``,
                ``seed``, ``init`` (``"numpy_randn"``: NumPy's ``randn(in, hidden)``, ...),
                ``weights`` (``[{"weight": [in, out], "bias": [out]}, ...]``),
                ``return_weights``, ``grad_output``, ``target``.

        Returns:
            ``{"logits": [out], "softmax": [out], "layers", ...}``; with ``grad_output`` (the
            logits' gradient [out]) or ``target`` (a class index: the softmax's cross-entropy,
            answered as ``"loss"``) also ``"grad_input"`` (the input's shape) and
            ``"grad_weights"``: ``[{"weight": [in, out], "bias": [out]}, ...]``.
        """
        out = dict(fields)
        if x is not None:
            if "input" in out:
                raise TypeError("give the input once: as the first argument or as input=")
            out["input"] = x
        return self._post("/mlp", out)

    def cnn(self, image: Optional[ImageLike] = None, **fields: Any) -> Dict[str, Any]:
        """``POST /cnn``: a whole feed-forward network on one image.

        Args:
            image: as for :meth:`conv`.
            **fields: ``architecture`` (a list of layer dicts; default the assignment's),
                ``softmax``, ``seed``, ``init``, ``render``, ``grayscale``, ``resize``.

        Returns:
            ``{"output": [n], "logits": [n], "layers": [{"type", "output_shape"}, ...], ...}``.
        """
        return self._post("/cnn", self._with_image(image, fields))

    def check(self, op: str, answer: Any, **fields: Any) -> Dict[str, Any]:
        """``POST /check/{op}``: grade an answer computed by hand against the reference.

        Args:
            op: ``"conv"``, ``"pool"`` or ``"mlp"``.
            answer: what you computed (an array, sent as .npy).
            **fields: the operation's own fields, exactly as for :meth:`conv` / :meth:`pool` /
                :meth:`mlp` (``image=`` is a path, bytes or an array, as conv's first
                argument); for ``"mlp"``,
                ``softmax`` says which output the answer is (default true).

        Returns:
            ``{"pass", "tolerance", "max_abs_error", "max_rel_error", "mismatches", "worst",
            "expected_shape", "got_shape", "diagnosis": [{"code", "message"}, ...]}``.
        """
        if op not in CHECK_OPS:
            raise ValueError(f"op must be one of {CHECK_OPS}, not {op!r}")
        image = fields.pop("image", None)
        out = self._with_image(image, fields)
        out["answer"] = answer
        return self._post(f"/check/{op}", out)

    def run(self, model: str, weights: Dict[str, Any], sequence: Any) -> Dict[str, Any]:
        """``POST /run/{model}``: a trained recurrent net's inside, step by step.

        Args:
            model: ``"rnn"``, ``"lstm"`` or ``"gru"``.
            weights: a ``done`` event's ``"weights"`` (arrays by PyTorch name).
            sequence: ``[[value, marker], ...]`` (a list or an array [T, 2]).

        Returns:
            ``{"output": the prediction, "hidden": [T, H], "gates": {name: [T, H]}}`` — LSTM
            ``i``, ``f``, ``g``, ``o`` and the cell state ``cell``; GRU ``r``, ``z``, ``n``;
            none for the Elman net.
        """
        if model not in RUN_MODELS:
            raise ValueError(f"model must be one of {RUN_MODELS}, not {model!r}")
        return self._post(f"/run/{model}", {"weights": weights, "sequence": sequence})

    @overload
    def train(self, model: str, *, stream: Literal[True] = ..., **params: Any) -> Iterator[Dict[str, Any]]: ...

    @overload
    def train(self, model: str, *, stream: Literal[False], **params: Any) -> Dict[str, Any]: ...

    def train(self, model: str, *, stream: bool = True,
              **params: Any) -> Union[Iterator[Dict[str, Any]], Dict[str, Any]]:
        """``POST /train/{model}``: train a net, following it as it learns.

        Args:
            model: ``"rnn"``, ``"lstm"``, ``"gru"`` (the adding problem) or ``"cnn"``
                (Fashion-MNIST).
            stream: True (default): return an iterator over the events, each yielded as it
                arrives (``start``, ``progress``, ``epoch``, then ``done``); an ``error`` event
                raises :class:`nnlab.Error`. False: wait and return the ``done`` dict.
            **params: ``epochs``, ``hidden_size``, ``learning_rate``, ``samples``, ``seed``,
                ``dataset``, ``init``, ``report_every``, ``probe_samples`` (each ``epoch``
                event's ``gradient_by_step``), ``export="pytorch"`` (the ``start`` event's
                ``pytorch`` script), ... (see the API).

        Returns:
            An iterator of event dicts, or the ``done`` dict (weights as float64 arrays).
        """
        if model not in TRAIN_MODELS:
            raise ValueError(f"model must be one of {TRAIN_MODELS}, not {model!r}")
        fields = encode(params)
        fields.setdefault("output_format", "npy")
        fields["stream"] = bool(stream)
        if not stream:
            return self._request("POST", f"/train/{model}", fields)
        return self._events(f"/train/{model}", fields)

    @overload
    def sweep(self, *, stream: Literal[True] = ..., **params: Any) -> Iterator[Dict[str, Any]]: ...

    @overload
    def sweep(self, *, stream: Literal[False], **params: Any) -> Dict[str, Any]: ...

    def sweep(self, *, stream: bool = True,
              **params: Any) -> Union[Iterator[Dict[str, Any]], Dict[str, Any]]:
        """``POST /train/sweep``: final test loss against sequence length, for each model.

        Args:
            stream: as for :meth:`train`: an iterator over ``start``, ``progress`` (every epoch
                of every point), ``point`` (one per trained (model, length)) and ``done``; or
                (False) the ``done`` dict, whose ``points`` list holds every point.
            **params: ``models`` (default ``["rnn", "lstm", "gru"]``), ``lengths`` (default
                ``[10, 25, 50, 100, 200]``) and the training parameters ``samples``,
                ``test_samples``, ``epochs``, ``hidden_size``, ``learning_rate``, ``clip``,
                ``batch_size``, ``seed``.
        """
        fields = dict(params)
        fields["stream"] = bool(stream)
        if not stream:
            return self._request("POST", "/train/sweep", fields)
        return self._events("/train/sweep", fields)

    def _events(self, path: str, fields: Dict[str, Any]) -> Iterator[Dict[str, Any]]:
        """The NDJSON lines of a streamed answer, each decoded as soon as it is read. Closing the
        iterator early (``break``) hangs up, which cancels the run on the daemon."""
        conn = self._connect()
        try:
            try:
                resp = self._send(conn, "POST", path, json.dumps(fields, allow_nan=False).encode("utf-8"))
            except (OSError, http.client.HTTPException) as e:
                raise self._unreachable(e) from None
            if resp.status >= 300:
                raise Error.from_body(resp.status, resp.read())
            while True:
                try:
                    line = resp.readline()
                except (OSError, http.client.HTTPException) as e:
                    raise self._unreachable(e) from None
                if not line:
                    return
                if not line.strip():
                    continue
                event = decode(json.loads(line.decode("utf-8")))
                if isinstance(event, dict) and event.get("type") == "error":
                    raise Error.from_event(event)
                yield event
        finally:
            conn.close()

