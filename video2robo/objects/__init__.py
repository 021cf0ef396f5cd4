"""Task objects: procedural textured meshes (cup, bowl, plate, cubes, drum, drumstick, brush, lid, box,
board) and robosuite's textured objects, with shape symmetries and OBJ export, behind one registry."""

from video2robo.objects.asset import ObjectAsset, load_asset
from video2robo.objects.registry import OBJECTS, make_object
from video2robo.objects.shapes import MeshPart

__all__ = ["OBJECTS", "MeshPart", "ObjectAsset", "load_asset", "make_object"]
