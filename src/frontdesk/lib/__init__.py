"""Pure helpers with no models: environment parsing, masking, dates."""
