"""Gemini through the official ``google-genai`` SDK (Gemini Developer API).

The SDK is imported lazily. The client is built per call with the key passed explicitly
(``GEMINI_API_KEY``, or ``GOOGLE_API_KEY`` which the SDK also accepts and prefers when both are
set), ``api_version="v1beta"``, the timeout in milliseconds, and no ``retry_options`` (the SDK
then does not retry; ``retry.py`` does). google-genai raises bare ``httpx2`` exceptions for
timeouts and dropped connections; ``retry.classify`` maps them.

Finish reasons: ``MAX_TOKENS`` -> truncated; ``SAFETY``, ``RECITATION``, ``PROHIBITED_CONTENT``,
``BLOCKLIST``, ``SPII`` or a blocked prompt (``prompt_feedback.block_reason``) -> refused.
Output tokens are ``candidates_token_count + thoughts_token_count`` (thinking is billed as output).
"""

from __future__ import annotations

from typing import Any

from .base import GenerationRequest, RawReply, VendorModel

__all__ = ["GeminiModel"]

_REFUSALS = {"SAFETY", "RECITATION", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII",
             "IMAGE_SAFETY", "LANGUAGE"}


def _enum_name(value: Any) -> str:
    return str(getattr(value, "name", value) or "")


class GeminiModel(VendorModel):
    provider = "gemini"
    key_lookup = ("GOOGLE_API_KEY", "GEMINI_API_KEY")  # the SDK's preference when both are set

    def make_client(self, api_key: str) -> Any:
        from google import genai
        from google.genai import types

        opts = types.HttpOptions(base_url=self.base_url, api_version="v1beta",
                                 timeout=int(self.timeout_s * 1000))
        return genai.Client(api_key=api_key, vertexai=False, http_options=opts)

    def call(self, client: Any, request: GenerationRequest) -> RawReply:
        from google.genai import types

        config = types.GenerateContentConfig(
            max_output_tokens=self.max_output_tokens,
            temperature=self.temperature,
            system_instruction=request.system or None,
        )
        resp = client.models.generate_content(model=self.vendor_model, contents=request.prompt,
                                              config=config)
        usage = resp.usage_metadata
        tin = (usage.prompt_token_count or 0) if usage else 0
        tout = ((usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)) if usage else 0
        feedback = getattr(resp, "prompt_feedback", None)
        blocked = _enum_name(getattr(feedback, "block_reason", None)) if feedback else ""
        if not resp.candidates:
            stop = "refusal" if blocked else "other"
            return RawReply("", stop, blocked or "no candidates", tin, tout)
        cand = resp.candidates[0]
        finish = _enum_name(cand.finish_reason)
        parts = (cand.content.parts or []) if cand.content else []
        text = "".join(p.text for p in parts if getattr(p, "text", None) and not p.thought)
        if finish == "MAX_TOKENS":
            stop = "max_tokens"
        elif finish in _REFUSALS or blocked:
            stop = "refusal"
        else:
            stop = "stop" if finish in ("STOP", "") else "other"
        return RawReply(text, stop, finish or blocked, tin, tout)
