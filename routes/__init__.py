"""HTTP routes besides /graphql: the receipt PDF and the electronic receipt's link pages."""
