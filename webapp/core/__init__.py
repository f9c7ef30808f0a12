"""What every stage uses: time, security, forms helpers, template helpers, taxonomy."""
