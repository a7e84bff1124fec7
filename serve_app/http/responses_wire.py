"""OpenAI's Responses API (``POST /v1/responses``) bridged to the chat pipeline.

A Responses request becomes a chat-completions request (:func:`to_chat_request`); the answer
becomes a Response object (:func:`to_response`) or the Responses event stream
(:class:`ResponseEvents`). With ``previous_response_id`` the stored conversation of that
response comes first; ``instructions`` are never carried over, as OpenAI specifies.

Supported: ``input`` as a string or items (messages with ``input_text``/``input_image``/``output_text``
parts, ``function_call``, ``function_call_output``), ``instructions``, function tools and
``tool_choice``, ``text.format`` (``text``, ``json_object``, ``json_schema``), ``max_output_tokens``,
``temperature``, ``top_p``, ``user``, ``parallel_tool_calls``, ``store``, ``metadata``, ``stream``.
Built-in and namespaced tools (web search, file search, computer use; Codex sends some) are left out,
since a chat target cannot run them; ``reasoning`` items are dropped.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from serve_app.http.protocol import require
from tollgate_core.errors import BadRequestError

__all__ = ["ResponseEvents", "new_response_id", "output_messages", "to_chat_request", "to_response"]


def new_response_id() -> str:
    return f"resp_{uuid.uuid4().hex}"


def _content(content: Any, param: str) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    require(isinstance(content, list), f"{param}: a string or a list of content parts", param)
    parts: list[dict[str, Any]] = []
    for i, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("input_text", "output_text", "text"):
            require(isinstance(part.get("text"), str), f"{param}[{i}].text: a string is required", f"{param}[{i}].text")
            parts.append({"type": "text", "text": part["text"]})
        elif kind == "input_image":
            url = part.get("image_url")
            require(isinstance(url, str), f"{param}[{i}].image_url: a URL or data URL is required (file_id is not "
                     "supported)", f"{param}[{i}].image_url")
            parts.append({"type": "image_url", "image_url": {"url": url, **(
                {"detail": part["detail"]} if part.get("detail") in ("low", "high", "auto") else {})}})
        elif kind == "refusal":
            parts.append({"type": "text", "text": str(part.get("refusal") or "")})
        else:
            raise BadRequestError(f"{param}[{i}].type: {kind!r} parts are not supported (input_text, input_image)",
                                  param=f"{param}[{i}].type")
    return parts


def input_messages(items: Any) -> list[dict[str, Any]]:
    """Chat messages for a Responses ``input`` (a string or a list of items)."""
    if isinstance(items, str):
        return [{"role": "user", "content": items}]
    require(isinstance(items, list) and bool(items), "input: a string or a non-empty list of items", "input")
    messages: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        where = f"input[{i}]"
        require(isinstance(item, dict), f"{where}: an object is required", where)
        kind = item.get("type", "message")
        if kind == "message":
            role = item.get("role")
            require(role in ("user", "assistant", "system", "developer"),
                     f"{where}.role: user, assistant, system or developer", f"{where}.role")
            content = _content(item.get("content"), f"{where}.content")
            if role == "assistant" and isinstance(content, list):
                content = "".join(p.get("text", "") for p in content)
            messages.append({"role": role, "content": content})
        elif kind == "function_call":
            for field in ("call_id", "name", "arguments"):
                require(isinstance(item.get(field), str), f"{where}.{field}: a string is required", f"{where}.{field}")
            call = {"id": item["call_id"], "type": "function",
                    "function": {"name": item["name"], "arguments": item["arguments"]}}
            if messages and messages[-1]["role"] == "assistant" and messages[-1].get("tool_calls") is not None:
                messages[-1]["tool_calls"].append(call)
            elif messages and messages[-1]["role"] == "assistant" and "tool_calls" not in messages[-1]:
                messages[-1]["tool_calls"] = [call]
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            require(isinstance(item.get("call_id"), str), f"{where}.call_id: a string is required", f"{where}.call_id")
            output = item.get("output")
            text = output if isinstance(output, str) else json.dumps(output, ensure_ascii=False)
            messages.append({"role": "tool", "tool_call_id": item["call_id"], "content": text})
        elif kind == "reasoning":
            continue
        else:
            raise BadRequestError(f"{where}.type: {kind!r} items are not supported "
                                  "(message, function_call, function_call_output)", param=f"{where}.type")
    return messages


def _tools(tools: Any) -> list[dict[str, Any]]:
    """Function tools in chat form; built-in tools, which a chat target cannot run, are left out."""
    require(isinstance(tools, list), "tools: a list is required", "tools")
    out = []
    for i, tool in enumerate(tools):
        where = f"tools[{i}]"
        require(isinstance(tool, dict) and isinstance(tool.get("type"), str), f"{where}.type: a string is required",
                 f"{where}.type")
        if tool["type"] != "function":
            continue
        require(isinstance(tool.get("name"), str), f"{where}.name: a string is required", f"{where}.name")
        function = {"name": tool["name"], "parameters": tool.get("parameters") or {"type": "object", "properties": {}}}
        if tool.get("description"):
            function["description"] = tool["description"]
        if tool.get("strict") is not None:
            function["strict"] = bool(tool["strict"])
        out.append({"type": "function", "function": function})
    return out


def _tool_choice(choice: Any) -> Any:
    if isinstance(choice, str):
        require(choice in ("auto", "none", "required"), "tool_choice: auto, none, required or a function",
                 "tool_choice")
        return choice
    require(isinstance(choice, dict) and choice.get("type") == "function" and isinstance(choice.get("name"), str),
             "tool_choice: auto, none, required or {\"type\": \"function\", \"name\": ...}", "tool_choice")
    return {"type": "function", "function": {"name": choice["name"]}}


def _response_format(text: Any) -> dict[str, Any] | None:
    fmt = text.get("format") if isinstance(text, dict) else None
    if fmt is None:
        return None
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind == "text":
        return None
    if kind == "json_object":
        return {"type": "json_object"}
    require(kind == "json_schema", "text.format.type: text, json_object or json_schema", "text.format.type")
    require(isinstance(fmt.get("schema"), dict) and isinstance(fmt.get("name"), str),
             "text.format: a json_schema format needs name and schema", "text.format")
    schema = {"name": fmt["name"], "schema": fmt["schema"],
              **({"strict": fmt["strict"]} if fmt.get("strict") is not None else {}),
              **({"description": fmt["description"]} if fmt.get("description") else {})}
    return {"type": "json_schema", "json_schema": schema}


def to_chat_request(body: Any, history: list[dict[str, Any]]) -> dict[str, Any]:
    """The chat-completions body for a Responses body, after the stored ``history`` (chat messages)."""
    require(isinstance(body, dict), "the request body must be a JSON object", "")
    require(isinstance(body.get("model"), str) and bool(body["model"]), "model: a model name is required", "model")
    require("input" in body, "input: a string or a list of items is required", "input")
    messages = list(history) + input_messages(body["input"])
    if body.get("instructions"):
        require(isinstance(body["instructions"], str), "instructions: a string is required", "instructions")
        messages.insert(0, {"role": "system", "content": body["instructions"]})
    chat: dict[str, Any] = {"model": body["model"], "messages": messages}
    if body.get("max_output_tokens") is not None:
        chat["max_tokens"] = body["max_output_tokens"]
    for field in ("temperature", "top_p", "user", "parallel_tool_calls"):
        if body.get(field) is not None:
            chat[field] = body[field]
    tools = _tools(body["tools"]) if body.get("tools") else []
    if tools:
        chat["tools"] = tools
    if tools and body.get("tool_choice") is not None:
        chat["tool_choice"] = _tool_choice(body["tool_choice"])
    response_format = _response_format(body.get("text"))
    if response_format is not None:
        chat["response_format"] = response_format
    if body.get("stream"):
        chat["stream"] = True
        chat["stream_options"] = {"include_usage": True}
    return chat


def _usage(usage: Any) -> dict[str, Any]:
    u = usage if isinstance(usage, dict) else {}
    prompt, completion = int(u.get("prompt_tokens") or 0), int(u.get("completion_tokens") or 0)
    cached = int((u.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
    return {"input_tokens": prompt, "input_tokens_details": {"cached_tokens": cached},
            "output_tokens": completion, "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": prompt + completion}


def _message_item(text: str, item_id: str | None = None, status: str = "completed") -> dict[str, Any]:
    return {"type": "message", "id": item_id or f"msg_{uuid.uuid4().hex}", "status": status, "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []}] if status == "completed" else []}


def _call_item(call_id: str, name: str, arguments: str, item_id: str | None = None,
               status: str = "completed") -> dict[str, Any]:
    return {"type": "function_call", "id": item_id or f"fc_{uuid.uuid4().hex}", "call_id": call_id, "name": name,
            "arguments": arguments, "status": status}


def _envelope(body: dict[str, Any], response_id: str, created: int, status: str) -> dict[str, Any]:
    """The Response fields that echo the request."""
    return {
        "id": response_id, "object": "response", "created_at": created, "status": status, "model": body["model"],
        "output": [], "error": None, "incomplete_details": None, "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"), "metadata": body.get("metadata") or {},
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"), "store": body.get("store", True),
        "temperature": body.get("temperature"), "top_p": body.get("top_p"),
        "text": body.get("text") or {"format": {"type": "text"}}, "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools") or [], "truncation": "disabled", "user": body.get("user"), "usage": None,
    }


def _finish(response: dict[str, Any], finish_reason: Any, usage: Any) -> dict[str, Any]:
    if finish_reason == "length":
        response["status"] = "incomplete"
        response["incomplete_details"] = {"reason": "max_output_tokens"}
    elif finish_reason == "content_filter":
        response["status"] = "incomplete"
        response["incomplete_details"] = {"reason": "content_filter"}
    else:
        response["status"] = "completed"
    response["usage"] = _usage(usage)
    return response


def to_response(completion: dict[str, Any], body: dict[str, Any], response_id: str) -> dict[str, Any]:
    """The Response object for a ``chat.completion`` answering ``body``."""
    choice = (completion.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    response = _envelope(body, response_id, int(time.time()), "in_progress")
    if message.get("content"):
        response["output"].append(_message_item(message["content"]))
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        response["output"].append(_call_item(call.get("id") or f"call_{uuid.uuid4().hex}", function.get("name") or "",
                                             function.get("arguments") or ""))
    return _finish(response, choice.get("finish_reason"), completion.get("usage"))


def output_messages(response: dict[str, Any]) -> list[dict[str, Any]]:
    """A Response's output as chat messages, to follow its input in the stored conversation."""
    items = [item for item in response["output"] if item["type"] in ("message", "function_call")]
    converted = []
    for item in items:
        if item["type"] == "message":
            converted.append({"type": "message", "role": "assistant",
                              "content": "".join(p.get("text", "") for p in item["content"])})
        else:
            converted.append({k: item[k] for k in ("type", "call_id", "name", "arguments")})
    return input_messages(converted) if converted else []


Event = tuple[str, dict[str, Any]]


class ResponseEvents:
    """Turns a chat-completions chunk stream, chunk by chunk, into the Responses API's events."""

    def __init__(self, body: dict[str, Any], response_id: str) -> None:
        self._response = _envelope(body, response_id, int(time.time()), "in_progress")
        self._sequence = 0
        self._started = False
        self._text: dict[str, Any] | None = None  # the open message item, with the text so far
        self._calls: dict[int, dict[str, Any]] = {}  # chat tool call index -> function_call item
        self._outputs: list[dict[str, Any]] = []
        self._finish_reason: Any = None
        self._usage: Any = None

    def _event(self, kind: str, **fields: Any) -> Event:
        event = {"type": kind, "sequence_number": self._sequence, **fields}
        self._sequence += 1
        return kind, event

    def _start(self) -> list[Event]:
        if self._started:
            return []
        self._started = True
        snapshot = json.loads(json.dumps(self._response))
        return [self._event("response.created", response=snapshot),
                self._event("response.in_progress", response=snapshot)]

    def feed(self, chunk: dict[str, Any]) -> list[Event]:
        events = self._start()
        if chunk.get("usage"):
            self._usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                events += self._text_delta(delta["content"])
            for call in delta.get("tool_calls") or []:
                events += self._call_delta(call)
            if choice.get("finish_reason"):
                self._finish_reason = choice["finish_reason"]
        return events

    def _text_delta(self, text: str) -> list[Event]:
        events: list[Event] = []
        if self._text is None:
            item = _message_item("", status="in_progress")
            self._text = {"item": item, "index": len(self._outputs), "text": ""}
            self._outputs.append(item)
            events += [self._event("response.output_item.added", output_index=self._text["index"], item=dict(item)),
                       self._event("response.content_part.added", item_id=item["id"], output_index=self._text["index"],
                                   content_index=0, part={"type": "output_text", "text": "", "annotations": []})]
        self._text["text"] += text
        events.append(self._event("response.output_text.delta", item_id=self._text["item"]["id"],
                                  output_index=self._text["index"], content_index=0, delta=text))
        return events

    def _call_delta(self, call: dict[str, Any]) -> list[Event]:
        events: list[Event] = []
        n = int(call.get("index", 0))
        function = call.get("function") or {}
        if n not in self._calls:
            item = _call_item(call.get("id") or f"call_{uuid.uuid4().hex}", function.get("name") or "", "",
                              status="in_progress")
            self._calls[n] = {"item": item, "index": len(self._outputs)}
            self._outputs.append(item)
            events.append(self._event("response.output_item.added", output_index=self._calls[n]["index"],
                                      item=dict(item)))
        if function.get("arguments"):
            entry = self._calls[n]
            entry["item"]["arguments"] += function["arguments"]
            events.append(self._event("response.function_call_arguments.delta", item_id=entry["item"]["id"],
                                      output_index=entry["index"], delta=function["arguments"]))
        return events

    def finish(self) -> tuple[list[Event], dict[str, Any]]:
        """The closing events and the finished Response (for the store)."""
        events = self._start()
        if self._text is not None:
            item, index, text = self._text["item"], self._text["index"], self._text["text"]
            part = {"type": "output_text", "text": text, "annotations": []}
            item.update(status="completed", content=[part])
            events += [self._event("response.output_text.done", item_id=item["id"], output_index=index,
                                   content_index=0, text=text),
                       self._event("response.content_part.done", item_id=item["id"], output_index=index,
                                   content_index=0, part=part),
                       self._event("response.output_item.done", output_index=index, item=item)]
        for entry in self._calls.values():
            item = entry["item"]
            item["status"] = "completed"
            events += [self._event("response.function_call_arguments.done", item_id=item["id"],
                                   output_index=entry["index"], arguments=item["arguments"]),
                       self._event("response.output_item.done", output_index=entry["index"], item=item)]
        response = self._response
        response["output"] = self._outputs
        _finish(response, self._finish_reason, self._usage)
        kind = "response.completed" if response["status"] == "completed" else "response.incomplete"
        events.append(self._event(kind, response=response))
        return events, response

    def error(self, code: Any, message: str) -> list[Event]:
        """An ``error`` event and ``response.failed``, for a stream the gateway had to end."""
        events = self._start()
        self._response.update(status="failed", error={"code": code or "server_error", "message": message},
                              output=self._outputs)
        return [*events, self._event("error", code=code, message=message, param=None),
                self._event("response.failed", response=self._response)]
