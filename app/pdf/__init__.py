"""PDF forms (reportlab): the bundled CJK font, Chinese line breaking, the form document and each form."""
