from django.urls import path

from exchange import views

app_name = "exchange"

urlpatterns = [
    path(".well-known/meshe-node.json", views.node_manifest, name="node_manifest"),
    # Partnerships and node health (exchange.views)
    # Catalogue feed, sync and partner offers (exchange.catalogue_views)
    # Deliveries, incoming credentials and notices (exchange.delivery_views)
]
