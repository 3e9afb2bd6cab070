import VXSwitch
print("vxsw")
