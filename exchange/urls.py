from django.urls import path

from exchange import views

app_name = "exchange"

urlpatterns = [
    path(".well-known/meshe-node.json", views.node_manifest, name="node_manifest"),
]
