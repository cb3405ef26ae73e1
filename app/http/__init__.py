"""What both doors (the REST API and the web form) share: dependencies, errors, middleware."""
