"""The flash-sale benchmark (`make bench`): not part of the product."""
