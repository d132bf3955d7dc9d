"""Weight quantization: settings, pre-flight validation, the AutoAWQ backend, the output writer."""
