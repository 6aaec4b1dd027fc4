"""OpenAI (Chat Completions) and any OpenAI-compatible server, through the official ``openai`` SDK.

One class serves both providers:

- ``openai``: api.openai.com (or ``base_url``), key from ``OPENAI_API_KEY``; sends
  ``max_completion_tokens`` (what the gpt-5 family accepts; reasoning tokens count against it).
- ``openai_compatible``: Ollama, vLLM, llama.cpp server, LM Studio... at ``base_url``; no key
  unless ``api_key_env`` names one; sends ``max_tokens``, which those servers understand. The SDK
  insists on a key, so a placeholder is passed; the real ``OPENAI_API_KEY`` is never sent to a
  third-party server.

The SDK is imported lazily; clients are built per call with ``max_retries=0`` (``retry.py``
retries). ``finish_reason == "length"`` -> truncated; a ``message.refusal`` or
``finish_reason == "content_filter"`` -> refused. Chat Completions is used rather than the
Responses API because every compatible server speaks it.
"""

from __future__ import annotations

from typing import Any

from .base import GenerationRequest, RawReply, VendorModel

__all__ = ["OpenAICompatibleModel", "OpenAIModel"]

NO_KEY_PLACEHOLDER = "no-key-required"
_STOPS = {"stop": "stop", "length": "max_tokens", "content_filter": "refusal"}


class OpenAIModel(VendorModel):
    provider = "openai"
    max_tokens_param = "max_completion_tokens"

    def make_client(self, api_key: str) -> Any:
        import openai

        return openai.OpenAI(api_key=api_key or NO_KEY_PLACEHOLDER, base_url=self.base_url,
                             max_retries=0, timeout=self.timeout_s)

    def call(self, client: Any, request: GenerationRequest) -> RawReply:
        messages = [{"role": "user", "content": request.prompt}]
        if request.system:
            messages.insert(0, {"role": "system", "content": request.system})
        kwargs: dict[str, Any] = {self.max_tokens_param: self.max_output_tokens}
        if self.temperature is not None:
            kwargs["temperature"] = self.temperature
        resp = client.chat.completions.create(model=self.vendor_model, messages=messages,
                                              **kwargs)
        if not resp.choices:
            raise ValueError("reply has no choices")
        choice = resp.choices[0]
        finish = choice.finish_reason or ""
        refusal = getattr(choice.message, "refusal", None) or ""
        usage = resp.usage
        return RawReply(
            text=choice.message.content or "",
            stop="refusal" if refusal else _STOPS.get(finish, "other"),
            vendor_stop="refusal" if refusal else finish,
            input_tokens=(usage.prompt_tokens or 0) if usage else 0,
            output_tokens=(usage.completion_tokens or 0) if usage else 0,
            refusal_detail=refusal,
        )


class OpenAICompatibleModel(OpenAIModel):
    provider = "openai_compatible"
    max_tokens_param = "max_tokens"

    def cache_material(self, request: GenerationRequest) -> dict:
        # The server decides what "model" means, so it is part of the identity.
        return {**super().cache_material(request), "base_url": self.base_url}
