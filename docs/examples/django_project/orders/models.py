"""Products with stock, and orders for them."""

from django.db import models


class Product(models.Model):
    sku = models.CharField(max_length=64, primary_key=True)
    stock = models.PositiveIntegerField()


class Order(models.Model):
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="orders")
    quantity = models.PositiveIntegerField()
    status = models.CharField(max_length=16, default="placed")
