"""Claude through the official ``anthropic`` SDK (Messages API).

The SDK is imported lazily (only when a Claude model is called). The client is built per call
with ``max_retries=0`` (``retry.py`` retries) and the key passed explicitly, so neither the
SDK's environment/profile credential lookup nor its retry policy is involved.

anthropic 2.12.0's ``messages.create`` has no ``temperature`` argument; when the registry entry
sets one it is sent through ``extra_body`` (use ``temperature: null`` for models that reject it).
Stop reasons: ``max_tokens`` -> truncated, ``refusal`` -> refused.
"""

from __future__ import annotations

from typing import Any

from .base import GenerationRequest, RawReply, VendorModel

__all__ = ["AnthropicModel"]

_STOPS = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "max_tokens",
          "model_context_window_exceeded": "max_tokens", "refusal": "refusal"}


class AnthropicModel(VendorModel):
    provider = "anthropic"

    def make_client(self, api_key: str) -> Any:
        import anthropic

        return anthropic.Anthropic(api_key=api_key, base_url=self.base_url, max_retries=0,
                                   timeout=self.timeout_s)

    def call(self, client: Any, request: GenerationRequest) -> RawReply:
        kwargs: dict[str, Any] = {}
        if request.system:
            kwargs["system"] = request.system
        if self.temperature is not None:
            kwargs["extra_body"] = {"temperature": self.temperature}
        msg = client.messages.create(
            model=self.vendor_model,
            max_tokens=self.max_output_tokens,
            messages=[{"role": "user", "content": request.prompt}],
            **kwargs,
        )
        text = "".join(getattr(b, "text", "") for b in msg.content if b.type == "text")
        stop = msg.stop_reason or ""
        usage = msg.usage
        return RawReply(text=text, stop=_STOPS.get(stop, "other"), vendor_stop=stop,
                        input_tokens=usage.input_tokens or 0,
                        output_tokens=usage.output_tokens or 0)
