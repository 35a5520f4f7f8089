"""Serializer fields that take strings only.

DRF's CharField turns numbers into strings; an API whose documents say `string` answers 400 instead.
"""

from rest_framework import serializers


class StringOnlyMixin:
    default_error_messages = {'not_a_string': 'Must be a string.'}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail('not_a_string')
        return super().to_internal_value(data)


class StrictCharField(StringOnlyMixin, serializers.CharField):
    pass


class StrictEmailField(StringOnlyMixin, serializers.EmailField):
    pass
