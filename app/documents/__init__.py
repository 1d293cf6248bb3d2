"""Customized documents and pitch kits: templates, values, the PDFs made from them (blueprint
`documents`)."""
