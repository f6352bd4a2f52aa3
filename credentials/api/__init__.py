"""The JSON APIs: the issuer API and the W3C VC-API, their URLs and the OpenAPI document."""
