"""Content negotiation that always answers JSON, whatever the client's Accept header says."""

from rest_framework.negotiation import DefaultContentNegotiation


class AlwaysJSONNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        return (renderers[0], renderers[0].media_type)
