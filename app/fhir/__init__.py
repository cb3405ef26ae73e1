"""FHIR R4: questionnaires out as ``Questionnaire``, responses in as ``QuestionnaireResponse``.

The mapping is pure (definitions and plain values in, FHIR JSON out and back); only
``service.py`` touches the database, and it hands answers to the same intake as native JSON.
"""
