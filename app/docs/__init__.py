"""The API's own description: the OpenAPI document and the pages that show it."""
